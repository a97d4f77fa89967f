import ArgumentParser
import HubBench
import HubCLI
import Testing

@Suite("bench publish options")
struct BenchOptionsTests {
    /// Parses `meridian bench publish <arguments>` (which runs `validate()`).
    static func parse(_ arguments: [String]) throws -> BenchCommand.Publish {
        let command = try MeridianCommand.parseAsRoot(["bench", "publish"] + arguments)
        return try #require(command as? BenchCommand.Publish)
    }

    @Test("defaults parse")
    func defaults() throws {
        _ = try Self.parse(["--plain-broker"])
        _ = try Self.parse(["--plain-broker", "--qos", "0", "--rate", "5000", "--duration", "2.5", "--warmup", "0", "--no-tls"])
    }

    @Test("bad values are usage errors", arguments: [
        ["--qos", "2"], ["--payload", "1"], ["--payload", "262145"], ["--inflight", "0"], ["--inflight", "65536"],
        ["--duration", "0"], ["--duration", "-3"], ["--duration", "3601"], ["--warmup", "-1"], ["--devices", "0"],
        ["--rate", "-5"], ["--threads", "0"], ["--threads", "65"], ["--mqtt-port", "0"], ["--mqtt-port", "70000"],
        ["--connect-rate", "-1"], ["--mqtt-version", "4"], ["--device-prefix", ""], ["--broker-pid", "0"],
        ["--rate", "0.1", "--duration", "1"], ["--ca", "/nonexistent/ca.pem"], ["--duration", "nan"],
    ])
    func refused(arguments: [String]) {
        #expect(throws: (any Error).self) { try Self.parse(["--plain-broker"] + arguments) }
        // Whatever the exact error type, the parser reports it as a usage error with a message.
        let message = MeridianCommand.message(for: Self.error(["--plain-broker"] + arguments))
        #expect(!message.isEmpty)
    }

    @Test("hub device prefixes are Azure device ids")
    func hubPrefix() {
        #expect(throws: (any Error).self) { try Self.parse(["--device-prefix", "bad/prefix"]) }
        #expect(throws: (any Error).self) { try Self.parse(["--device-prefix", String(repeating: "a", count: 127)]) }
        #expect(throws: Never.self) { try Self.parse(["--device-prefix", "drone-"]) }
    }

    @Test("the configuration's own checks name the flags")
    func configuration() {
        var c = PublishBenchmark.Configuration()
        #expect(throws: BenchError.self) { try c.validate() }  // no publishers
        c.publishers = [BenchPublisher.plain(prefix: "p", index: 0)]
        #expect(throws: Never.self) { try c.validate() }
        c.inflight = 0
        #expect { try c.validate() } throws: { ($0 as? BenchError)?.message.contains("--inflight") == true }
        c.inflight = 10
        c.publishers = [BenchPublisher(clientID: "x", topic: "bad/+/topic")]
        #expect { try c.validate() } throws: { ($0 as? BenchError)?.code == .invalidOption }
    }

    static func error(_ arguments: [String]) -> any Error {
        do {
            _ = try MeridianCommand.parseAsRoot(["bench", "publish"] + arguments)
            return CleanExit.message("parsed")
        } catch {
            return error
        }
    }
}
