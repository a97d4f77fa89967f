import Foundation
import Testing

@testable import HubTimeSeries

/// Decode (and encode) throughput, printed only (no timing assertions). Off unless `HUBTS_SPEED` is set; meaningful in
/// release: `HUBTS_SPEED=1 swift test -c release -Xswiftc -enable-testing --filter DecodeSpeed`.
@Suite("Decode speed", .enabled(if: ProcessInfo.processInfo.environment["HUBTS_SPEED"] != nil))
struct DecodeSpeedTests {
    @Test("points per second decoded from tsbench-like blocks, per codec and API")
    func speed() throws {
        let data = DroneTelemetry(drones: 20, steps: 720, seed: 2)
        var decimal: [FloatBlock] = [], xor: [FloatBlock] = []
        for field in DroneTelemetry.flightFields {
            for series in data.values[field]! {
                decimal.append(try FloatBlock(times: data.flightTimes, values: series))
                xor.append(try FloatBlock(times: data.flightTimes, values: series, allowingDecimal: false))
            }
        }
        let statuses = ["idle", "flying", "returning", "charging"]
        let strings = try (0..<100).map { d in
            try StringBlock(times: data.flightTimes, values: (0..<720).map { statuses[($0 / (50 + d)) % 4] })
        }
        let points = decimal.reduce(0) { $0 + $1.count }
        let rounds = 40
        func measure(_ name: String, expecting expected: Int? = nil, _ body: () throws -> Int) rethrows {
            var checksum = 0
            let start = ContinuousClock.now
            for _ in 0..<rounds { checksum &+= try body() }
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            print("\(name): \(Int(Double(points * rounds) / seconds / 1e6)) M points/s (check \(checksum))")
            // What is timed must also be right: every point decoded, every round.
            if let expected { #expect(checksum == expected * rounds, "\(name)") }
        }
        var times: [Int64] = [], values: [Double] = []
        times.reserveCapacity(1000)
        values.reserveCapacity(1000)
        for (name, blocks) in [("decimal", decimal), ("xor", xor)] {
            try measure("decode \(name) decode(times:values:)", expecting: points) {
                var sum = 0
                for block in blocks {
                    times.removeAll(keepingCapacity: true)
                    values.removeAll(keepingCapacity: true)
                    try block.decode(times: &times, values: &values)
                    sum &+= times.count
                }
                return sum
            }
            try measure("decode \(name) forEach") {
                var sum = 0.0
                for block in blocks { try block.forEach { _, value in sum += value } }
                return Int(sum)
            }
        }
        try measure("decode strings forEachIndex (\(strings.count * 720) points per round, scaled)") {
            var sum = 0
            for _ in 0..<(points / (strings.count * 720)) {
                for block in strings { try block.forEachIndex { _, index in sum &+= index } }
            }
            return sum
        }
        try measure("encode FloatBlock(times:values:) (tries both codecs)") {
            var sum = 0
            for field in DroneTelemetry.flightFields {
                for series in data.values[field]! { sum &+= try FloatBlock(times: data.flightTimes, values: series).bytes.count }
            }
            return sum
        }
        try measure("decode bytes → FloatBlock(bytes:) (checksum) + decode", expecting: points) {
            var sum = 0
            for block in decimal {
                times.removeAll(keepingCapacity: true)
                values.removeAll(keepingCapacity: true)
                try FloatBlock(bytes: block.bytes).decode(times: &times, values: &values)
                sum &+= values.count
            }
            return sum
        }
    }
}
