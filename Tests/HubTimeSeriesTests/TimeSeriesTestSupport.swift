import Foundation
import Testing

@testable import HubTimeSeries

/// A deterministic generator (SplitMix64) for the store tests.
struct StoreTestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct StoreTestDirectory {
    let path: String

    init(_ name: String = #function) {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        path = FileManager.default.temporaryDirectory.appendingPathComponent("ts-\(safe)-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A copy of the directory as it is now (what a `kill -9` at this moment would leave on disk).
    func copy(suffix: String = "copy") -> StoreTestDirectory {
        let target = StoreTestDirectory("\(suffix)")
        try! FileManager.default.removeItem(atPath: target.path)
        try! FileManager.default.copyItem(atPath: path, toPath: target.path)
        return target
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Files under `sub` (recursive), relative paths.
    func files(under sub: String = "") -> [String] {
        let root = sub.isEmpty ? path : path + "/" + sub
        return ((try? FileManager.default.subpathsOfDirectory(atPath: root)) ?? []).filter {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: root + "/" + $0, isDirectory: &isDirectory)
            return !isDirectory.boolValue
        }.sorted()
    }
}

extension TimeSeriesStore.Configuration {
    /// Small everything: many blocks, files, partitions and WAL segments from little data.
    static func small(headPoints: Int = 8, flushBytes: Int = 4_096) -> Self {
        var c = Self()
        c.headPoints = headPoints
        c.partitionDuration = .seconds(3_600)
        c.partitionCloseDelay = .seconds(300)  // partitions close as soon as the out-of-order window allows
        c.flushBytes = flushBytes
        c.walSegmentBytes = 1 << 16
        c.walMaximumBytes = 1 << 18
        c.minuteRollupPartition = .seconds(2 * 3_600)
        c.hourRollupPartition = .seconds(4 * 3_600)
        c.compactedBlockPoints = 50
        c.maximumFutureSkew = nil
        return c
    }
}

/// The points a test expects, with last-write-wins.
struct ReferenceModel {
    var series: [SeriesKey: [Int64: Double]] = [:]

    mutating func add(_ key: SeriesKey, _ time: Int64, _ value: Double) {
        series[key, default: [:]][time] = value
    }

    func points(_ key: SeriesKey, from: Int64 = .min, to: Int64 = .max) -> (times: [Int64], values: [Double]) {
        let sorted = (series[key] ?? [:]).filter { $0.key >= from && $0.key < to }.sorted { $0.key < $1.key }
        return (sorted.map(\.key), sorted.map(\.value))
    }

    var keys: [SeriesKey] { series.keys.sorted() }
    var count: Int { series.values.reduce(0) { $0 + $1.count } }
}

/// Brute-force aggregates from raw points, the reference for the query engine.
enum BruteForce {
    static func buckets(times: [Int64], values: [Double], from: Int64, to: Int64, interval: Int64, aggregates: [Aggregate]) -> [AggregateBucket] {
        var groups: [Int64: [(Int64, Double)]] = [:]
        for (t, v) in zip(times, values) where t >= from && t < to {
            let start = Int64((Double(t) / Double(interval)).rounded(.down)) * interval
            let exact = t >= 0 ? (t / interval) * interval : start
            groups[exact, default: []].append((t, v))
        }
        return groups.keys.sorted().map { start in
            let points = groups[start]!.sorted { $0.0 < $1.0 }
            let vals = points.map(\.1)
            return AggregateBucket(start: start, count: points.count, values: aggregates.map { aggregate in
                switch aggregate {
                case .avg: return vals.reduce(0, +) / Double(vals.count)
                case .min: return vals.min()!
                case .max: return vals.max()!
                case .sum: return vals.reduce(0, +)
                case .count: return Double(vals.count)
                case .first: return points.first!.1
                case .last: return points.last!.1
                case .percentile(let p):
                    let sorted = vals.sorted()
                    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
                    return sorted[max(1, min(sorted.count, rank)) - 1]
                }
            })
        }
    }

    /// Equal counts and exact min/max/first/last/count/percentiles; sums and averages within 1e-9 relative.
    static func same(_ a: [AggregateBucket], _ b: [AggregateBucket], _ aggregates: [Aggregate]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            guard x.start == y.start, x.count == y.count, x.values.count == y.values.count else { return false }
            for (i, aggregate) in aggregates.enumerated() {
                switch aggregate {
                case .sum, .avg:
                    let scale = max(1, abs(x.values[i]), abs(y.values[i]))
                    if abs(x.values[i] - y.values[i]) > 1e-9 * scale { return false }
                default:
                    if x.values[i] != y.values[i] { return false }
                }
            }
        }
        return true
    }
}
