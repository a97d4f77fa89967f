import Foundation
import Testing

@testable import HubTimeSeries

@Suite("Time-series store: concurrent use")
struct ConcurrencyTests {
    @Test("writers, readers and maintenance at once: nothing lost, no deadlock")
    func concurrentIngestAndQueries() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        // Writers run at different speeds: the close delay must cover how far one lags behind another.
        var configuration = TimeSeriesStore.Configuration.small(headPoints: 16, flushBytes: 8_192)
        configuration.partitionCloseDelay = .seconds(2 * 3_600)
        let store = try TimeSeriesStore(directory: directory.path, configuration: configuration)
        let t0: Int64 = 1_767_571_200_000
        let writers = 3, steps = 400
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    let ids = try (0..<4).map { try store.seriesID(device: "w\(writer)", measure: "m\($0)") }
                    for step in 0..<steps {
                        var batch = PointBatch()
                        for id in ids { batch.append(id, time: t0 + Int64(step) * 10_000, value: Double(step)) }
                        #expect(try store.append(batch).accepted == 4)
                        if step % 50 == 0 { try store.sync() }
                    }
                }
            }
            group.addTask {
                for _ in 0..<40 {
                    _ = try store.rawPoints(.all, from: t0, to: t0 + 10_000_000)
                    _ = try store.aggregate(AggregateQuery(selector: .all, from: t0, to: t0 + 10_000_000, interval: 60_000, aggregates: [.count, .avg]))
                    _ = store.lastValues(.all)
                    await Task.yield()
                }
            }
            group.addTask {
                for _ in 0..<10 {
                    try store.maintain(now: t0)
                    await Task.yield()
                }
            }
            try await group.waitForAll()
        }
        let result = try store.rawPoints(.all, from: .min, to: .max)
        #expect(result.series.count == writers * 4)
        #expect(result.series.allSatisfy { $0.times.count == steps && $0.values == (0..<steps).map(Double.init) })
        let counts = try store.aggregate(AggregateQuery(selector: .all, from: t0, to: t0 + Int64(steps) * 10_000, interval: 3_600_000, aggregates: [.count]))
        #expect(counts.groups.allSatisfy { $0.buckets.reduce(0) { $0 + $1.count } == steps })
        #expect(store.lastValues(.all).allSatisfy { $0.value == Double(steps - 1) })
    }
}
