import HubCore
import HubEventLog

/// Polls `condition` every 20 ms for up to `seconds`; its last answer.
public func eventually(_ seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

extension EventLog {
    /// Appends a JSON telemetry message from `device` (as the device protocol stores one) and waits until
    /// its batch is stored.
    public func appendTelemetry(device: String, json: String, properties: [(String, String)] = []) async throws {
        let message = DeviceMessage(
            body: Array(json.utf8), contentType: "application/json", contentEncoding: "utf-8",
            applicationProperties: properties.map { .init($0.0, $0.1) }, connectionDeviceID: DeviceID(rawValue: device),
            messageSource: .telemetry)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            append(message, partitionKey: device) { result in continuation.resume(with: result.mapError { $0 as any Error }) }
        }
    }
}
