import Foundation
import HubCore
import HubStreamSQL
import HubTestKit
import Testing

/// A Gaussian series (Box–Muller over SplitMix64) so every run sees the same numbers.
private func gaussian(_ count: Int, mean: Double, deviation: Double, seed: UInt64) -> [Double] {
    var rng = SplitMix64(state: seed)
    return (0..<count).map { _ in
        let u1 = max(Double.random(in: 0..<1, using: &rng), 1e-12), u2 = Double.random(in: 0..<1, using: &rng)
        return mean + deviation * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

/// Runs `query` over a temperature series (one event per second) and returns the row indexes that came out.
private func flagged(_ query: String, _ series: [Double]) throws -> [Int] {
    var job = SQLJob(plan: try SQLPlan(query))
    var rows: [SQLOutputRow] = []
    for (i, t) in series.enumerated() {
        let event = SQLValue.record(SQLRecord([("deviceId", .string("d1")), ("i", .int(Int64(i))), ("temperature", .string(String(t)))]))
        rows += job.process(SQLEvent(record: event, enqueuedTime: Int64(i) * 1000))
    }
    rows += job.flush()
    #expect(job.counters.errors == 0, "\(String(describing: job.lastError))")
    return rows.compactMap { if case .int(let i)? = $0.record["i"] { Int(i) } else { nil } }
}

@Suite("stream SQL anomaly detection")
struct SQLAnomalyTests {
    @Test("spikes and dips are found; a calm series raises (almost) nothing", arguments: [UInt64(1), 2, 3])
    func spikeAndDip(_ seed: UInt64) throws {
        var series = gaussian(300, mean: 70, deviation: 1, seed: seed)
        series[120] += 12  // a spike
        series[220] -= 12  // a dip
        let query = """
            SELECT i FROM events
            WHERE CAST(GetRecordPropertyValue(AnomalyDetection_SpikeAndDip(CAST(temperature AS float), 99.9, 100, 'spikesanddips')
                  OVER (PARTITION BY deviceId LIMIT DURATION(minute, 10)), 'IsAnomaly') AS bigint) = 1
            """
        let found = try flagged(query, series)
        #expect(found.contains(120) && found.contains(220), "\(found)")
        #expect(found.count <= 4, "false positives: \(found)")
        let spikesOnly = try flagged(query.replacingOccurrences(of: "'spikesanddips'", with: "'spikes'"), series)
        #expect(spikesOnly.contains(120) && !spikesOnly.contains(220))
        let dipsOnly = try flagged(query.replacingOccurrences(of: "'spikesanddips'", with: "'dips'"), series)
        #expect(dipsOnly.contains(220) && !dipsOnly.contains(120))
    }

    @Test("a lasting level shift is a change point, found soon after it happens", arguments: [UInt64(4), 5, 6])
    func changePoint(_ seed: UInt64) throws {
        var series = gaussian(300, mean: 70, deviation: 1, seed: seed)
        for i in 150..<300 { series[i] += 6 }
        let query = """
            SELECT i FROM events
            WHERE CAST(GetRecordPropertyValue(AnomalyDetection_ChangePoint(CAST(temperature AS float), 99, 60)
                  OVER (LIMIT DURATION(minute, 10)), 'IsAnomaly') AS bigint) = 1
            """
        let found = try flagged(query, series)
        #expect(!found.contains { $0 < 150 }, "false alarms before the change: \(found)")
        #expect(found.contains { (150...170).contains($0) }, "the change at 150 was not found soon: \(found)")
    }

    @Test("the drone scenario's query 5, with Stream Analytics' semantics: ISFIRST sees every scored event, not only anomalies")
    func droneQuery() throws {
        // Readings every 20 s from 20:25:09; the aligned 10-minute windows start at readings 15, 45, 75, … (every 30th).
        var series = gaussian(400, mean: 74, deviation: 0.5, seed: 9)
        for i in [195, 196, 197, 300] { series[i] += 20 }
        /// (temperature, event time in ms) of every alarm.
        func alarms(_ query: String) throws -> [(temperature: Double, time: Int64)] {
            var job = SQLJob(plan: try SQLPlan(query))
            var rows: [SQLOutputRow] = []
            for (i, t) in series.enumerated() {
                let time = Timestamp(rawValue: 1_523_996_709_000 + Int64(i) * 20_000).iso8601
                let body = #"{"deviceId":"d1","sensorType":"drone-state-sensor;v1","occurrenceUtcTime":"\#(time)","temperature":"\#(t)"}"#
                rows += job.process(SQLEvent(record: SQLValue(json: try JSONParser.parse(Array(body.utf8))), enqueuedTime: 0))
            }
            rows += job.flush()
            #expect(job.counters.errors == 0 && rows.allSatisfy { $0.output == "alarms" })
            return rows.compactMap { row in
                guard case .float(let t)? = row.record["temperature"], case .string(let when)? = row.record["occurrenceUtcTime"],
                    let ms = SQLDateTime.parse(when)
                else { return nil }
                return (t, ms)
            }
        }
        let tenMinutes: Int64 = 600_000
        // As written (confidence 95: about 1 reading in 20 scores as an anomaly by chance): an alarm only when an
        // anomaly is also the first reading of its window — 195's spike is; 196, 197 and 300 are not.
        let asWritten = try alarms(DroneQueries.all[4].text)
        #expect(asWritten.filter { $0.temperature > 90 }.count == 1)
        #expect(asWritten.allSatisfy { $0.time % tenMinutes < 20_000 }, "only first readings of a window")
        #expect(Set(asWritten.map { $0.time / tenMinutes }).count == asWritten.count, "at most one alarm per 10 minutes")
        // With WHEN, ISFIRST counts only anomalies: the first anomaly of each window, so both spiking windows alarm.
        let firstAnomaly = try alarms(DroneQueries.all[4].text.replacingOccurrences(
            of: "ISFIRST(minute, 10) OVER (PARTITION BY deviceId)",
            with: "ISFIRST(minute, 10) OVER (PARTITION BY deviceId WHEN CAST(GetRecordPropertyValue(sd, 'IsAnomaly') AS bigint) = 1)"))
        #expect(firstAnomaly.filter { $0.temperature > 90 }.count == 2)
        #expect(Set(firstAnomaly.map { $0.time / tenMinutes }).count == firstAnomaly.count, "at most one alarm per 10 minutes")
    }

    @Test("bad anomaly calls are refused at plan time")
    func planErrors() {
        #expect(throws: SQLError.self) { try SQLPlan("SELECT AnomalyDetection_SpikeAndDip(t, 95, 120, 'sideways') OVER (LIMIT DURATION(minute, 1)) AS a FROM events") }
        #expect(throws: SQLError.self) { try SQLPlan("SELECT AnomalyDetection_SpikeAndDip(t, 195, 120, 'spikes') OVER (LIMIT DURATION(minute, 1)) AS a FROM events") }
        #expect(throws: SQLError.self) { try SQLPlan("SELECT AnomalyDetection_ChangePoint(t, 95, 120) OVER (PARTITION BY d) AS a FROM events") }
    }
}
