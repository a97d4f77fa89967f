import Foundation

/// Runs command-line tools in tests (`openssl`, later `mosquitto_pub`, the `meridian` binary).
public enum ProcessRunner {
    /// What a finished process left behind.
    public struct Result: Sendable {
        public var exitCode: Int32
        /// stdout and stderr, interleaved as written.
        public var output: String
        /// Whether the process was killed for running past its time limit.
        public var timedOut: Bool
    }

    /// Runs `executable` (looked up in `PATH`) with stdin from /dev/null, waiting at most `timeout`
    /// seconds before terminating it.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        timeout: TimeInterval = 30
    ) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        let box = ProcessBox(process)
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
            if box.process.isRunning {
                box.markTimedOut()
                box.process.terminate()
            }
        }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                box.process.waitUntilExit()
                continuation.resume(
                    returning: Result(
                        exitCode: box.process.terminationStatus, output: String(decoding: data, as: UTF8.self),
                        timedOut: box.timedOut))
            }
        }
    }

    /// Whether `executable` can be found in `PATH`.
    public static func isAvailable(_ executable: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(executable)") }
    }
}

/// Hands a `Process` to the dispatch blocks that watch it.
private final class ProcessBox: @unchecked Sendable {
    let process: Process
    private let lock = NSLock()
    private var _timedOut = false

    init(_ process: Process) { self.process = process }

    var timedOut: Bool { lock.withLock { _timedOut } }
    func markTimedOut() { lock.withLock { _timedOut = true } }
}
