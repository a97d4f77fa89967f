import Foundation
import HubServer
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Log messages kept in memory, so tests can assert on what the server logged.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var messages: [String] { lines.withLock { $0 } }

    var logger: Logger {
        var logger = Logger(label: "meridian-test") { _ in Handler(capture: self) }
        logger.logLevel = .debug
        return logger
    }

    /// Waits up to `timeout` seconds for a message satisfying `predicate`.
    func waitFor(timeout: Double = 20, _ predicate: (String) -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if messages.contains(where: predicate) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.append("\(event.message)")
        }
    }
}

/// Free TCP ports on 127.0.0.1 (bound to port 0, then released: good enough on a test machine).
enum FreePorts {
    static func pick(_ count: Int) async throws -> [Int] {
        var channels: [any Channel] = []
        for _ in 0..<count {
            channels.append(
                try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .bind(host: "127.0.0.1", port: 0).get())
        }
        let ports = channels.map { $0.localAddress!.port! }
        for channel in channels { try await channel.close() }
        return ports
    }
}

/// Runs a `MeridianServer` in a `ServiceGroup` (no signal handling) around `body`, then shuts it down
/// gracefully. Throws what the server threw if it stopped on its own.
func withRunningServer(
    _ configuration: HubConfiguration, logs: LogCapture,
    _ body: () async throws -> Void
) async throws {
    let server = MeridianServer(configuration: configuration, logger: logs.logger)
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(
            services: [.init(service: server)], logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }))
    let finished = RunOutcome()
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask {
            do {
                try await group.run()
                finished.value.withLock { $0 = .success(()) }
            } catch {
                finished.value.withLock { $0 = .failure(error) }
            }
        }
        let deadline = Date().addingTimeInterval(30)
        while !logs.messages.contains("meridian ready") {
            if case .failure(let error) = finished.value.withLock({ $0 }) { throw error }
            if finished.value.withLock({ $0 }) != nil || Date() > deadline {
                throw HubServerError(.storage, "the server did not get ready: \(logs.messages)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        do {
            try await body()
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        if case .failure(let error) = finished.value.withLock({ $0 }) { throw error }
    }
}

/// How the server's run ended, shared with the task that runs it.
private final class RunOutcome: Sendable {
    let value = Mutex<Result<Void, any Error>?>(nil)
}
