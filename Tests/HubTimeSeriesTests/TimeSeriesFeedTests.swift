import Foundation
import HubCore
import HubEventLog
import HubTestKit
import Logging
import Testing

@testable import HubTimeSeries

@Suite("The event-log feed of the time-series store")
struct TimeSeriesFeedTests {
    static let t0: Int64 = 1_767_571_200_000  // 2026-01-05T00:00:00Z

    static func scenarioTime(_ ms: Int64) -> String {
        let text = Timestamp(rawValue: ms).iso8601  // 2026-01-05T00:00:05.000Z
        let date = text.prefix(10).split(separator: "-")
        return "\(date[1])/\(date[2])/\(date[0]) \(text.dropFirst(11).prefix(8)) +00:00"
    }

    func store(_ fixture: EventLogFixture) throws -> TimeSeriesStore {
        var configuration = TimeSeriesStore.Configuration()
        configuration.clock = { Self.t0 + 3_600_000 }
        return try TimeSeriesStore(directory: fixture.dir.appending("timeseries"), configuration: configuration)
    }

    @Test("telemetry becomes points; a restarted feed resumes at its saved position without losing or doubling a point")
    func feedAndResume() async throws {
        let fixture = try EventLogFixture(partitions: 2)
        for i in 0..<20 {
            let device = "drone-\(i % 2)"
            try await fixture.log.appendTelemetry(
                device: device,
                json: #"{"occurrenceUtcTime": "\#(Self.scenarioTime(Self.t0 + Int64(i) * 5000))", "velocity": "\#(i).25", "position": "47.5|-122.25|100", "note": "text"}"#)
        }
        try await fixture.log.appendTelemetry(device: "drone-0", json: "not json")
        var store = try self.store(fixture)
        let positions = fixture.dir.appending("timeseries/feed.json")
        var feed = TimeSeriesFeed(log: fixture.log, store: store, positionsPath: positions, logger: Logger(label: "test"))
        var task = Task { [feed] in await feed.run() }
        #expect(await eventually { feed.status.withLock { $0.events } == 21 })
        let status = feed.status.withLock { $0 }
        #expect(status.mapped == 20 && status.points == 100 && status.unmapped == 1 && status.rejected == 0)
        let raw = try store.rawPoints(SeriesSelector(devices: ["drone-0"], measures: ["velocity"]), from: Self.t0, to: Self.t0 + 3_600_000)
        #expect(raw.series.first?.times == (0..<10).map { Self.t0 + Int64($0) * 10_000 })
        #expect(raw.series.first?.values == (0..<10).map { Double("\($0 * 2).25")! })
        #expect(store.series().map(\.key.measure).sorted() == ["note", "position.alt", "position.lat", "position.lon", "velocity"].flatMap { [$0, $0] })
        let notes = try store.rawPoints(SeriesSelector(devices: ["drone-1"], measures: ["note"]), from: Self.t0, to: Self.t0 + 3_600_000)
        #expect(notes.series.first?.type == .string && notes.series.first?.strings == Array(repeating: "text", count: 10))
        #expect(await eventually { FileManager.default.fileExists(atPath: positions) })
        task.cancel()
        await task.value
        try store.close()

        // More events while the feed is down; a new store instance and feed take them from the saved position.
        for i in 20..<30 {
            try await fixture.log.appendTelemetry(
                device: "drone-\(i % 2)", json: #"{"occurrenceUtcTime": "\#(Self.scenarioTime(Self.t0 + Int64(i) * 5000))", "velocity": \#(i)}"#)
        }
        store = try self.store(fixture)
        feed = TimeSeriesFeed(log: fixture.log, store: store, positionsPath: positions, logger: Logger(label: "test"))
        task = Task { [feed] in await feed.run() }
        #expect(await eventually { feed.status.withLock { $0.events } == 10 })
        let velocity = try store.rawPoints(SeriesSelector(measures: ["velocity"]), from: Self.t0, to: Self.t0 + 3_600_000)
        #expect(velocity.series.reduce(0) { $0 + $1.times.count } == 30)
        task.cancel()
        await task.value
        try store.close()
    }
}
