import Foundation
import HubTestKit
import NIOCore
import NIOPosix
import Testing

/// The `meridian` executable itself: exit codes, the one-line error on stderr, SIGTERM.
///
/// `swift build --build-tests` (and so `swift test`) builds it next to the test bundle; set
/// `MERIDIAN_BINARY` to test another build.
@Suite("meridian binary", .enabled(if: MeridianBinary.path != nil, "the meridian executable was not built"))
struct MeridianBinaryTests {
    @Test("an invalid config file: exit 78 and exactly one line on stderr")
    func invalidConfig() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.appending("meridian.toml")
        try "mqtt_port = 1883\n".write(toFile: file, atomically: false, encoding: .utf8)
        let result = try await ProcessRunner.run(MeridianBinary.path!, ["serve", "--config", file])
        #expect(result.exitCode == 78)
        #expect(result.output == "meridian: config file \(file): unknown key \"mqtt_port\" (did you mean \"mqtt-port\"?)\n")
    }

    @Test("a malformed flag: the argument parser's usage error, exit 64")
    func badFlag() async throws {
        let result = try await ProcessRunner.run(MeridianBinary.path!, ["serve", "--mqtt-port", "70000"])
        #expect(result.exitCode == 64)
        #expect(result.output.hasPrefix("Error: option --mqtt-port must be between 0 and 65535, got 70000\n"))
    }

    @Test("a port in use: exit 1 and one line naming the listener")
    func portInUse() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let holder = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = holder.localAddress!.port!
        let result = try await ProcessRunner.run(
            MeridianBinary.path!,
            ["serve", "--data-dir", dir.path, "--mqtt-port", "\(port)", "--mqtts-port", "0", "--http-port", "0",
             "--https-port", "0", "--log-level", "error"])
        try await holder.close()
        #expect(result.exitCode == 1)
        #expect(result.output == "meridian: cannot listen on 127.0.0.1:\(port) (mqtt): address already in use\n")
    }

    @Test("SIGTERM shuts down gracefully with exit 0")
    func sigterm() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let ports = try await FreePorts.pick(4)
        let log = dir.appending("meridian.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: MeridianBinary.path!)
        process.arguments = [
            "serve", "--data-dir", dir.appending("data"), "--bind", "127.0.0.1", "--mqtt-port", "\(ports[0])",
            "--mqtts-port", "\(ports[1])", "--http-port", "\(ports[2])", "--https-port", "\(ports[3])",
        ]
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        func output() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(30)
        while !output().contains("meridian ready") && process.isRunning && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(output().contains("meridian ready"), "\(output())")
        process.terminate()  // SIGTERM
        while process.isRunning && Date() < deadline.addingTimeInterval(30) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!process.isRunning)
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0, "\(output())")
        let text = output()
        #expect(text.contains("listener mqtt on 127.0.0.1:\(ports[0]) (MQTT)"))
        #expect(text.contains("meridian shutting down"))
        #expect(text.contains("meridian stopped"))
        // The secrets the hub made itself never reach its logs.
        let key = try String(contentsOfFile: dir.appending("data/tls/server.key"), encoding: .utf8)
        for line in key.split(separator: "\n") where !line.hasPrefix("-----") {
            #expect(!text.contains(line))
        }
    }
}

/// Where the `meridian` executable is.
enum MeridianBinary {
    static let path: String? = {
        if let override = ProcessInfo.processInfo.environment["MERIDIAN_BINARY"] { return override }
        // The test bundle and the executable share the build products directory.
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("meridian").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }()
}
