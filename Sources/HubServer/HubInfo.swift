import Foundation

/// What a running hub records about itself in `<data-dir>/hub.json` so that offline tools (`meridian
/// policy connection-string --data-dir`) can print connection strings with the right host and port.
/// Not a secret: no keys.
public struct HubInfo: Codable, Sendable, Hashable {
    public var hostName: String
    /// The HTTPS listener's port (0 when disabled).
    public var httpsPort: Int
    public var httpPort: Int

    public static let fileName = "hub.json"

    public static func path(inDataDirectory directory: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
    }

    /// The `HostName=` value for service connection strings: the host, with the HTTPS port unless 443.
    public var serviceHostName: String {
        httpsPort == 0 || httpsPort == 443 ? hostName : "\(hostName):\(httpsPort)"
    }

    public func write(toDataDirectory directory: String) throws {
        let data = try JSONEncoder().encode(self)
        // Not Foundation's `.atomic`: on Linux it leaves a TemporaryDirectory.* folder in /tmp per write.
        let path = Self.path(inDataDirectory: directory)
        do {
            try SecureFile.writeAtomically(Array(data), to: path, mode: 0o644)
        } catch {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: SecureFile.describe(error)])
        }
    }

    public static func read(fromDataDirectory directory: String) -> HubInfo? {
        guard let data = FileManager.default.contents(atPath: path(inDataDirectory: directory)) else { return nil }
        return try? JSONDecoder().decode(HubInfo.self, from: data)
    }
}
