import Foundation
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

/// A real event log in a temporary directory, committing batches within a millisecond, for tests of
/// its consumers (routing, stream jobs).
public struct EventLogFixture: Sendable {
    public let dir: TemporaryDirectory
    public let log: EventLog

    public init(partitions: Int = 2) throws {
        dir = try TemporaryDirectory()
        var configuration = EventLog.Configuration()
        configuration.partitionCount = partitions
        configuration.maxBatchDelay = .milliseconds(1)
        try FileManager.default.createDirectory(atPath: dir.appending("events"), withIntermediateDirectories: true)
        log = try EventLog(directory: dir.appending("events"), configuration: configuration)
    }

    /// Closes the log and removes the directory.
    public func close() {
        log.close()
        dir.remove()
    }
}
