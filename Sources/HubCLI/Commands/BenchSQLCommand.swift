import ArgumentParser
import Foundation
import HubCore
import HubStreamSQL

extension BenchCommand {
    /// `meridian bench sql`: in-process throughput of a stream SQL job on one core.
    struct SQL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sql",
            abstract: "Measure how many events per second one stream SQL job processes on one thread.",
            discussion: """
                Events are made in memory first (drone flight data: deviceId, velocity, one event per device per \
                second of event time, devices interleaved), then fed to the job on one thread; the time of that loop \
                alone is measured (parsing JSON is not part of it). The default query is the issue's benchmark: \
                an average per device over 10-second tumbling windows.
                """)

        static let defaultQuery = """
            SELECT deviceId, AVG(velocity) AS avgVelocity, COUNT(*) AS n, System.Timestamp() AS windowEnd
            INTO rollups FROM events
            GROUP BY deviceId, TumblingWindow(second, 10)
            """

        @Option(help: "Distinct devices.") var devices = 10_000
        @Option(help: "Events fed to the job.") var events = 2_000_000
        @Option(help: ArgumentHelp("File with the query (default: the GROUP BY benchmark).", valueName: "file")) var query: String?
        @Option(help: "Runs; the best is reported (the first warms caches).") var runs = 3
        @Option(help: ArgumentHelp("Write the summary as JSON to this file.", valueName: "file")) var summaryJson: String?

        func validate() throws {
            guard devices > 0, events > 0, runs > 0 else { throw ValidationError("--devices, --events and --runs must be positive") }
        }

        func run() async throws {
            let text = try query.map { path -> String in
                guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
                return String(decoding: data, as: UTF8.self)
            } ?? Self.defaultQuery
            let plan = try SQLPlan(text)
            var rng = SystemRandomNumberGenerator()
            let ids = (0..<devices).map { SQLValue.string("Simulated.drone-01.\($0)") }
            let input = (0..<events).map { i in
                SQLEvent(
                    record: .record(SQLRecord([("deviceId", ids[i % devices]), ("velocity", .float(Double.random(in: 0..<90, using: &rng)))])),
                    enqueuedTime: 1_767_225_600_000 + Int64(i / devices) * 1000)
            }
            var best = Double.infinity
            var rows = 0
            for _ in 0..<runs {
                var job = SQLJob(plan: plan)
                let start = ContinuousClock.now
                var produced = 0
                for event in input { produced += job.process(event).count }
                produced += job.flush().count
                let elapsed = ContinuousClock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                best = min(best, seconds)
                rows = produced
            }
            let rate = Double(events) / best
            print("stream SQL: \(events) events from \(devices) devices in \(String(format: "%.3f", best)) s = \(Int(rate)) events/s on one thread; \(rows) rows")
            if let summaryJson {
                let summary = JSONValue.object(JSONObject([
                    "events": .int(events), "devices": .int(devices), "seconds": .number(String(best)),
                    "eventsPerSecond": .number(String(Int(rate))), "rows": .int(rows), "query": .string(text),
                ]))
                try Data(JSONWriter.bytes(summary)).write(to: URL(fileURLWithPath: summaryJson))
            }
        }
    }
}
