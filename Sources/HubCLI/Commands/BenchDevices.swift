import Foundation
import HubAuth
import HubCore

/// Registers the benchmark's devices through the registry REST API, reusing those that exist, and
/// returns each one's primary SAS key.
enum BenchDevices {
    /// A device and its key.
    struct Credential: Sendable {
        var id: String
        var key: SharedAccessKey
        /// Expiry to put in its token (the same for all; a function so a later scenario can stagger them).
        func expiry(_ expiry: Int64) -> Int64 { expiry }
    }

    /// Requests in flight at once while creating devices.
    static let concurrency = 8
    /// Attempts per request when the hub throttles (429).
    static let attempts = 30

    static func ensure(ids: [String], client: HubRESTClient, progress: @escaping @Sendable (String) -> Void) async throws -> [Credential] {
        var keys: [String: SharedAccessKey] = [:]
        // Existing devices in one call (the list is ordered by id and holds at most 1,000).
        if let list = try await client.request(.GET, "/devices?top=1000").json as? [[String: Any]] {
            let wanted = Set(ids)
            for device in list {
                guard let id = device["deviceId"] as? String, wanted.contains(id) else { continue }
                keys[id] = try key(of: device, id: id)
            }
        }
        let missing = ids.filter { keys[$0] == nil }
        if !missing.isEmpty { progress("bench: registering \(missing.count) device\(missing.count == 1 ? "" : "s") (\(ids.count - missing.count) reused)") }
        try await withThrowingTaskGroup(of: (String, SharedAccessKey).self) { group in
            var next = 0
            func add() {
                guard next < missing.count else { return }
                let id = missing[next]
                next += 1
                group.addTask { (id, try await create(id, client: client)) }
            }
            for _ in 0..<concurrency { add() }
            while let (id, key) = try await group.next() {
                keys[id] = key
                add()
            }
        }
        return ids.map { Credential(id: $0, key: keys[$0]!) }
    }

    /// Creates a SAS device with generated keys (or reads it when it already exists).
    static func create(_ id: String, client: HubRESTClient) async throws -> SharedAccessKey {
        let body: [String: Any] = ["deviceId": id, "status": "enabled", "authentication": ["type": "sas"]]
        for attempt in 1...attempts {
            do {
                let device = try await client.request(.PUT, "/devices/\(Path.escape(id))", body: body).json as? [String: Any] ?? [:]
                return try key(of: device, id: id)
            } catch let error as ClientError where error.status == 409 {
                let device = try await client.request(.GET, "/devices/\(Path.escape(id))").json as? [String: Any] ?? [:]
                return try key(of: device, id: id)
            } catch let error as ClientError where error.status == 429 && attempt < attempts {
                try await Task.sleep(nanoseconds: 1_000_000_000)
            }
        }
        throw ClientError(status: 429, code: "ThrottlingException", message: "the hub kept throttling device creation")
    }

    /// The primary key of an enabled SAS device, or a clear error.
    static func key(of device: [String: Any], id: String) throws -> SharedAccessKey {
        guard device["status"] as? String != "disabled" else {
            throw ClientError(status: 0, code: "DeviceDisabled", message: "the device \(id) exists but is disabled; enable it or use another --device-prefix")
        }
        guard device[path: "authentication.type"] as? String == "sas", let text = device[path: "authentication.symmetricKey.primaryKey"] as? String,
            let key = try? SharedAccessKey(base64: text)
        else {
            throw ClientError(status: 0, code: "NotSAS", message: "the device \(id) exists but has no SAS key; use another --device-prefix")
        }
        return key
    }
}
