import HubCore
import Hummingbird

/// Path captures and query values as both APIs read them.
extension Parameters {
    /// A path capture, percent-decoded: 400 when it is missing or not valid percent-encoded UTF-8.
    func decoded(_ name: String) throws(APIError) -> String {
        guard let raw = get(name), let decoded = PercentEncoding.decode(raw.utf8) else {
            throw .invalid("the path segment \(name) is not valid percent-encoded UTF-8")
        }
        return decoded
    }

    /// The `{deviceId}` capture, checked against Azure's rules (400 otherwise).
    func deviceID() throws(APIError) -> DeviceID {
        let raw = try decoded("deviceId")
        do {
            return try DeviceID(validating: raw)
        } catch {
            throw .invalid("\(error)")
        }
    }

    /// The `{moduleId}` capture, checked against Azure's rules (400 otherwise).
    func moduleID() throws(APIError) -> ModuleID {
        let raw = try decoded("moduleId")
        do {
            return try ModuleID(validating: raw)
        } catch {
            throw .invalid("\(error)")
        }
    }
}

extension Request {
    /// A query parameter, percent-decoded (`?name` alone gives "").
    func query(_ name: String) -> String? {
        uri.queryParameters[name[...]].map(String.init)
    }
}
