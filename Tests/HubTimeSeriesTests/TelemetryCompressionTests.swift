import Foundation
import Testing

@testable import HubTimeSeries

/// A port of tsbench's `generate_steps` (Tools/tsbench/influx_baseline.py): the same random walks, bounds
/// and steps — velocity, acceleration, lat, lon, alt every 5 s; temperature, batteryLevel every 20 s;
/// values at 2 decimals (so `-0.00` happens, as Python's `f"{a:.2f}"` writes it), whole-second times —
/// with `Seeded` in place of Python's generator.
struct DroneTelemetry {
    static let flightFields = ["velocity", "acceleration", "lat", "lon", "alt"]
    static let statusFields = ["temperature", "batteryLevel"]
    static let t0: Int64 = 1_767_571_200

    /// Times (ms) of the flight points and of the status points, the same for every drone.
    var flightTimes: [Int64] = []
    var statusTimes: [Int64] = []
    /// `values[field][drone]`, one value per time of the field's kind.
    var values: [String: [[Double]]] = [:]

    init(drones: Int, steps: Int, seed: UInt64) {
        var rng = Seeded(state: seed)
        func r() -> Double { Double.random(in: 0..<1, using: &rng) }
        func twoDecimals(_ x: Double) -> Double { (x * 100).rounded() / 100 }
        let lat0 = 47.60, lon0 = -122.30, klon = 1.0 / (111_320.0 * cos(47.60 * .pi / 180))
        var vel = (0..<drones).map { _ in 5 + 15 * r() }
        var acc = [Double](repeating: 0, count: drones)
        var head = (0..<drones).map { _ in 2 * .pi * r() }
        var lat = (0..<drones).map { _ in lat0 + 0.4 * (r() - 0.5) }
        var lon = (0..<drones).map { _ in lon0 + 0.6 * (r() - 0.5) }
        var alt = (0..<drones).map { _ in 60 + 80 * r() }
        var temp = (0..<drones).map { _ in 25 + 15 * r() }
        var batt = (0..<drones).map { _ in 60 + 40 * r() }
        for field in Self.flightFields + Self.statusFields { values[field] = Array(repeating: [], count: drones) }
        for s in 0..<steps {
            let t = Self.t0 + Int64(s) * 5
            flightTimes.append(t * 1000)
            for i in 0..<drones {
                var a = min(0.5, max(-0.5, acc[i] + 0.2 * (r() - 0.5)))
                var v = vel[i] + a * 5
                if v < 0 {
                    (v, a) = (0, 0)
                } else if v > 25 {
                    (v, a) = (25, 0)
                }
                var h = head[i] + 0.3 * (r() - 0.5)
                let d = v * 5
                var la = lat[i] + d * cos(h) / 111_320.0
                var lo = lon[i] + d * sin(h) * klon
                if abs(la - lat0) > 0.3 || abs(lo - lon0) > 0.45 {
                    h += .pi
                    (la, lo) = (lat[i], lon[i])
                }
                let al = min(200, max(30, alt[i] + 2.0 * (r() - 0.5)))
                (acc[i], vel[i], head[i], lat[i], lon[i], alt[i]) = (a, v, h, la, lo, al)
                values["velocity"]![i].append(twoDecimals(v))
                values["acceleration"]![i].append(twoDecimals(a))
                values["lat"]![i].append(twoDecimals(la))
                values["lon"]![i].append(twoDecimals(lo))
                values["alt"]![i].append(twoDecimals(al))
            }
            if (t - Self.t0) % 20 == 0 {
                statusTimes.append(t * 1000)
                for i in 0..<drones {
                    let tc = min(70, max(10, temp[i] + 0.4 * (r() - 0.5)))
                    var b = batt[i] - 0.05 * r()
                    if b < 5 { b = 100 }
                    (temp[i], batt[i]) = (tc, b)
                    values["temperature"]![i].append(twoDecimals(tc))
                    values["batteryLevel"]![i].append(twoDecimals(b))
                }
            }
        }
    }

    func times(of field: String) -> [Int64] { Self.flightFields.contains(field) ? flightTimes : statusTimes }
}

@Suite("Compression of drone telemetry (tsbench's data)")
struct TelemetryCompressionTests {
    /// 50 drones × 4 h: 720 flight points per drone-hour, and enough status points (every 20 s) to fill
    /// 720-point blocks too — as much data as 200 drones × 1 h.
    static let telemetry = DroneTelemetry(drones: 50, steps: 2880, seed: 1)

    struct Measured {
        var values = 0, bytes = 0, xorBytes = 0, version1Bytes = 0
        var decimalBlocks = 0, blocks = 0
        var perValue: Double { Double(bytes) / Double(values) }
        var xorPerValue: Double { Double(xorBytes) / Double(values) }
        var version1PerValue: Double { Double(version1Bytes) / Double(values) }
    }

    @Test("every measure takes at most 1.5 bytes per value including times and headers; decoding is exact", arguments: [120, 720])
    func bytesPerValue(_ blockSize: Int) throws {
        let data = Self.telemetry
        var total = Measured()
        var lines: [String] = []
        for field in DroneTelemetry.flightFields + DroneTelemetry.statusFields {
            let times = data.times(of: field)
            var measured = Measured()
            for series in data.values[field]! {
                var start = 0
                while start < series.count {
                    let end = min(start + blockSize, series.count)
                    let blockTimes = Array(times[start..<end]), blockValues = Array(series[start..<end])
                    let block = try FloatBlock(times: blockTimes, values: blockValues)
                    let xor = try FloatBlock(times: blockTimes, values: blockValues, allowingDecimal: false)
                    let version1 = FloatBlock.legacyBytes(Array(zip(blockTimes, blockValues)).map { ($0, $1) })
                    measured.values += blockValues.count
                    measured.bytes += block.bytes.count
                    measured.xorBytes += xor.bytes.count
                    measured.version1Bytes += version1.count
                    measured.blocks += 1
                    if case .decimal = block.valueEncoding { measured.decimalBlocks += 1 }
                    var decodedTimes: [Int64] = [], decodedValues: [Double] = []
                    try FloatBlock(bytes: block.bytes).decode(times: &decodedTimes, values: &decodedValues)
                    #expect(decodedTimes == blockTimes)
                    #expect(decodedValues.map(\.bitPattern) == blockValues.map(\.bitPattern))
                    start = end
                }
            }
            lines.append(Self.line(field, measured))
            #expect(measured.perValue <= 1.5, "\(field): \(measured.perValue) bytes per value")
            total.values += measured.values
            total.bytes += measured.bytes
            total.xorBytes += measured.xorBytes
            total.version1Bytes += measured.version1Bytes
            total.blocks += measured.blocks
            total.decimalBlocks += measured.decimalBlocks
        }
        lines.append(Self.line("all", total))
        print("bytes per value, blocks of \(blockSize) points (decimal/XOR v2 · XOR-only v2 · version 1):\n" + lines.joined(separator: "\n"))
        #expect(total.perValue <= 1.0, "\(total.perValue) bytes per value")
    }

    static func line(_ name: String, _ m: Measured) -> String {
        func f(_ x: Double) -> String { String(format: "%.3f", x) }
        let name = name.padding(toLength: 13, withPad: " ", startingAt: 0)
        return "  \(name) \(f(m.perValue))  ·  \(f(m.xorPerValue))  ·  \(f(m.version1PerValue))"
            + "   (\(m.decimalBlocks)/\(m.blocks) blocks decimal, \(m.values) values)"
    }
}
