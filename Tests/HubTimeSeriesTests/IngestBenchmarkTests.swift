import Foundation
import Testing

@testable import HubTimeSeries

/// The shape of `tools/tsbench` (influx_baseline.py): per drone, every 5 s velocity, acceleration, lat,
/// lon, alt and every 20 s temperature, batteryLevel, as smooth random walks written with 2 decimals.
struct DroneFleet {
    static let flight = ["velocity", "acceleration", "lat", "lon", "alt"]
    static let status = ["temperature", "batteryLevel"]

    var rng: StoreTestRandom
    var vel: [Double], acc: [Double], heading: [Double], lat: [Double], lon: [Double], alt: [Double], temp: [Double], batt: [Double]

    init(drones: Int, seed: UInt64 = 1) {
        var rng = StoreTestRandom(seed: seed)
        func r() -> Double { Double.random(in: 0..<1, using: &rng) }
        vel = (0..<drones).map { _ in 5 + 15 * r() }
        acc = Array(repeating: 0, count: drones)
        heading = (0..<drones).map { _ in 2 * .pi * r() }
        lat = (0..<drones).map { _ in 47.60 + 0.4 * (r() - 0.5) }
        lon = (0..<drones).map { _ in -122.30 + 0.6 * (r() - 0.5) }
        alt = (0..<drones).map { _ in 60 + 80 * r() }
        temp = (0..<drones).map { _ in 25 + 15 * r() }
        batt = (0..<drones).map { _ in 60 + 40 * r() }
        self.rng = rng
    }

    static func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }

    /// Appends step `step`'s values (flight, and status every 4th step) to `batch`; `ids[d][m]`: drone d's
    /// measure m (flight measures first, then status).
    mutating func step(_ step: Int, t0: Int64, ids: [[SeriesID]], into batch: inout PointBatch) {
        let time = t0 + Int64(step) * 5_000
        let kLon = 1.0 / (111_320.0 * cos(47.60 * .pi / 180))
        for d in vel.indices {
            var a = acc[d] + 0.2 * (Double.random(in: 0..<1, using: &rng) - 0.5)
            a = min(0.5, max(-0.5, a))
            var v = vel[d] + a * 5
            if v < 0 { v = 0; a = 0 } else if v > 25 { v = 25; a = 0 }
            var h = heading[d] + 0.3 * (Double.random(in: 0..<1, using: &rng) - 0.5)
            var la = lat[d] + v * 5 * cos(h) / 111_320.0
            var lo = lon[d] + v * 5 * sin(h) * kLon
            if abs(la - 47.60) > 0.3 || abs(lo + 122.30) > 0.45 { h += .pi; la = lat[d]; lo = lon[d] }
            let al = min(200, max(30, alt[d] + 2 * (Double.random(in: 0..<1, using: &rng) - 0.5)))
            (acc[d], vel[d], heading[d], lat[d], lon[d], alt[d]) = (a, v, h, la, lo, al)
            let row = ids[d]
            batch.append(row[0], time: time, value: Self.round2(v))
            batch.append(row[1], time: time, value: Self.round2(a))
            batch.append(row[2], time: time, value: Self.round2(la))
            batch.append(row[3], time: time, value: Self.round2(lo))
            batch.append(row[4], time: time, value: Self.round2(al))
        }
        if step % 4 == 0 {
            for d in vel.indices {
                temp[d] = min(70, max(10, temp[d] + 0.4 * (Double.random(in: 0..<1, using: &rng) - 0.5)))
                batt[d] -= 0.05 * Double.random(in: 0..<1, using: &rng)
                if batt[d] < 5 { batt[d] = 100 }
                batch.append(ids[d][5], time: time, value: Self.round2(temp[d]))
                batch.append(ids[d][6], time: time, value: Self.round2(batt[d]))
            }
        }
    }
}

@Suite("Time-series store: tsbench-shaped ingest (prints numbers, asserts only correctness)")
struct IngestBenchmarkTests {
    @Test("an hour of 100 drones (396k values): ingest time and bytes on disk per value")
    func droneIngest() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var configuration = TimeSeriesStore.Configuration()
        configuration.maximumFutureSkew = nil
        configuration.flushBytes = 1 << 20  // as many flushed files per hour as 10,000 drones make with the default 32 MiB
        let store = try TimeSeriesStore(directory: directory.path, configuration: configuration)
        let drones = 100, steps = 720  // 1 hour: 100 × (720 × 5 + 180 × 2) = 396,000 values (kept small: suites run in parallel)
        let t0: Int64 = 1_767_571_200_000
        let ids = try (0..<drones).map { d in
            try (DroneFleet.flight + DroneFleet.status).map { try store.seriesID(device: "drone-" + String(format: "%05d", d), measure: $0) }
        }
        var fleet = DroneFleet(drones: drones)
        var batch = PointBatch(capacity: drones * 7)
        var values = 0
        var appending = Duration.zero
        let clock = ContinuousClock()
        for step in 0..<steps {
            batch.removeAll()
            fleet.step(step, t0: t0, ids: ids, into: &batch)
            let started = clock.now
            let result = try store.append(batch)
            try store.sync()
            appending += clock.now - started
            #expect(result.accepted == batch.count)
            values += batch.count
        }
        let afterIngest = store.statistics
        try store.checkpoint()
        let flushed = store.statistics
        let report = try store.maintain(now: t0 + 3_600_000)
        let merged = store.statistics
        #expect(merged.sealedPoints == Int64(values))
        #expect(report.mergedFiles == flushed.files)
        let raw = try store.rawPoints(SeriesSelector(devices: ["drone-00042"], measures: ["velocity"]), from: t0, to: t0 + 3_600_000)
        #expect(raw.series.first?.times.count == steps)
        // Where the bytes are: blocks (FloatBlock, the codec's), 1-minute roll-ups after each block, index.
        var blockBytes = 0, rollupBytes = 0, entries = 0
        for files in store.state.withLock({ $0.catalog.raw.values }) {
            for file in files {
                for index in 0..<file.entryCount {
                    let entry = file.entry(at: index)
                    blockBytes += entry.length
                    rollupBytes += entry.rollupLength
                    entries += 1
                }
            }
        }
        let seconds = Double(appending.components.seconds) + Double(appending.components.attoseconds) / 1e18
        func perValue(_ bytes: some BinaryInteger) -> String { String(format: "%.3f", Double(bytes) / Double(values)) }
        print("""
            tsbench-shaped ingest (this build): \(values) values, \(drones) drones × 1 h, \(steps) batches, append+sync \(String(format: "%.2f", seconds)) s \
            = \(Int(Double(values) / seconds)) values/s
              after ingest: WAL \(afterIngest.walBytes) B, \(afterIngest.files) files, head points \(afterIngest.headPoints)
              after checkpoint: \(perValue(flushed.bytesOnDisk)) B/value in \(flushed.files) files
              after maintain (\(report.mergedFiles) files merged): \(perValue(merged.bytesOnDisk)) B/value = blocks \(perValue(blockBytes)) \
            + 1-minute roll-ups \(perValue(rollupBytes)) + index and headers \(perValue(merged.blockBytes - Int64(blockBytes + rollupBytes))) \
            + series dictionary \(perValue(merged.seriesBytes)) (\(entries) blocks)
            """)
    }
}
