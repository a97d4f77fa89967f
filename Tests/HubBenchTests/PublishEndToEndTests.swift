import Foundation
import HubBench
import HubCLI
import HubTestKit
import Testing

@Suite("bench publish against the in-process broker", .serialized)
struct PublishEndToEndTests {
    @Test("a 2 s run at a fixed rate acknowledges everything it sent", .timeLimit(.minutes(1)))
    func fixedRate() async throws {
        let harness = BrokerHarness()
        try await harness.start()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let summary = dir.appending("summary.json")
        let markdown = dir.appending("summary.md")
        let command = try MeridianCommand.parseAsRoot([
            "bench", "publish", "--plain-broker", "--mqtt-host", "127.0.0.1", "--mqtt-port", String(harness.port),
            "--devices", "4", "--rate", "2000", "--duration", "2", "--warmup", "0.5", "--inflight", "50",
            "--broker-pid", String(getpid()), "--summary-json", summary, "--summary-markdown", markdown,
        ])
        let publish = try #require(command as? BenchCommand.Publish)
        try await publish.run()
        await harness.shutdown()

        let report = try JSONDecoder().decode(PublishReport.self, from: Data(contentsOf: URL(fileURLWithPath: summary)))
        #expect(report.connected == 4)
        #expect(report.isClean)
        #expect(report.sent > 0)
        #expect(report.acked == report.sent)
        #expect(report.unacked == 0)
        // 2,000 msg/s for 2 s, give or take scheduling at the window's edges.
        #expect(report.ackedMeasured >= 3600 && report.ackedMeasured <= 4400, "\(report.ackedMeasured) acknowledged in the window")
        #expect(report.messagesPerSecond > 1800 && report.messagesPerSecond < 2200)
        #expect(report.backlogAtEnd == 0)
        let latency = try #require(report.latency)
        #expect(latency.count == report.ackedMeasured)
        #expect(latency.p50 > 0)
        #expect(latency.p50 <= latency.p99 && latency.p99 <= latency.p999 && latency.p999 <= latency.max)
        #expect(latency.p99 < 1_000_000, "p99 \(latency.p99) µs on loopback")
        let broker = try #require(report.broker)
        #expect(broker.rssKiB > 0)
        #expect(report.generator != nil)
        let md = try String(contentsOfFile: markdown, encoding: .utf8)
        #expect(md.contains("| throughput |"))
    }

    @Test("flat out with QoS 1 keeps the window full and drains it", .timeLimit(.minutes(1)))
    func flatOut() async throws {
        let harness = BrokerHarness()
        try await harness.start()
        var c = PublishBenchmark.Configuration()
        c.port = harness.port
        c.publishers = (0..<3).map { BenchPublisher.plain(prefix: "flat-", index: $0) }
        c.duration = 0.8
        c.warmup = 0.2
        c.inflight = 20
        c.threads = 2
        let report = try await PublishBenchmark(c).run()
        await harness.shutdown()
        #expect(report.isClean)
        #expect(report.acked == report.sent)
        #expect(report.ackedMeasured > 100)
        #expect((report.latency?.p50 ?? 0) > 0)
    }

    @Test("QoS 0 flat out sends and reports no latency", .timeLimit(.minutes(1)))
    func qos0() async throws {
        let harness = BrokerHarness()
        try await harness.start()
        var c = PublishBenchmark.Configuration()
        c.port = harness.port
        c.qos = .atMostOnce
        c.publishers = (0..<2).map { BenchPublisher.plain(prefix: "q0-", index: $0) }
        c.duration = 0.5
        c.warmup = 0
        let report = try await PublishBenchmark(c).run()
        await harness.shutdown()
        #expect(report.disconnects == 0 && report.errors == 0)
        #expect(report.sentMeasured > 100)
        #expect(report.latency == nil)
    }

    @Test("nothing listening: a clear connect failure, quickly", .timeLimit(.minutes(1)))
    func refused() async throws {
        var c = PublishBenchmark.Configuration()
        c.port = 1  // nothing listens on port 1
        c.publishers = [BenchPublisher.plain(prefix: "x-", index: 0)]
        c.duration = 1
        c.connectTimeout = 2
        await #expect { try await PublishBenchmark(c).run() } throws: { ($0 as? BenchError)?.code == .connectFailed }
    }
}
