import HubCore

/// A drone telemetry message in the style of the Fabrikam drone delivery scenario, as JSON of an exact
/// size:
///
/// ```json
/// {"deviceId":"bench-0","deliveryId":"3f2b9c1e-7a41-4d0e-8c55-000000000000",
///  "occurrenceUtcTime":"11/24/2026 10:00:00 +00:00","sensorType":"drone-event-sensor;v1","velocity":"58.08",
///  "position":"47.61|-122.33|120.5","altitude":"120.5","batteryLevel":"81","heading":"271.4","pad":"xxxx"}
/// ```
///
/// Fields are kept in that order while they fit (`deliveryId` early, so that small payloads still
/// differ from message to message); the rest is filled with a `"pad"` string (or, when fewer
/// than ten bytes are left, with spaces before the closing brace), so the text is always valid JSON of
/// exactly `size` bytes. The last twelve hex digits of `deliveryId` are the message's sequence number,
/// which the sender overwrites in place for every message (`sequenceOffset`).
public struct TelemetryPayload: Sendable, Hashable {
    /// The JSON text, `size` bytes of UTF-8.
    public let bytes: [UInt8]
    /// Where the twelve hex digits of the sequence number start in `bytes`, or nil when `deliveryId`
    /// did not fit.
    public let sequenceOffset: Int?

    /// The smallest payload: `{}`.
    public static let minimumSize = 2
    /// The largest payload: Azure IoT Hub's 256 KiB device-to-cloud message limit.
    public static let maximumSize = 256 * 1024
    /// Hex digits of the sequence number at the end of `deliveryId`.
    public static let sequenceDigits = 12

    /// Builds the payload of one device. `time` (seconds since 1970) becomes `occurrenceUtcTime`; `seed`
    /// picks the delivery id and the readings.
    public init(size: Int, deviceID: String, time: Int64, seed: UInt64) throws(BenchError) {
        guard size >= Self.minimumSize, size <= Self.maximumSize else {
            throw .invalid("the payload must be \(Self.minimumSize)...\(Self.maximumSize) bytes, not \(size)")
        }
        var random = SplitMix64(seed: seed)
        let uuidHead = Self.hex(random.next(), digits: 16) + Self.hex(random.next() >> 48, digits: 4)
        let deliveryID = "\(uuidHead.prefix(8))-\(uuidHead.dropFirst(8).prefix(4))-4\(uuidHead.dropFirst(12).prefix(3))-"
            + "8\(uuidHead.dropFirst(15).prefix(3))-" + String(repeating: "0", count: Self.sequenceDigits)
        let velocity = Self.decimal(Double(random.next() % 8000) / 100 + 20, places: 2)
        let latitude = Self.decimal(47.5 + Double(random.next() % 2000) / 10000, places: 4)
        let longitude = Self.decimal(-122.4 + Double(random.next() % 2000) / 10000, places: 4)
        let altitude = Self.decimal(Double(random.next() % 2000) / 10 + 30, places: 1)
        let fields: [(String, String)] = [
            ("deviceId", deviceID),
            ("deliveryId", deliveryID),
            ("occurrenceUtcTime", Self.occurrenceTime(time)),
            ("sensorType", "drone-event-sensor;v1"),
            ("velocity", velocity),
            ("position", "\(latitude)|\(longitude)|\(altitude)"),
            ("altitude", altitude),
            ("batteryLevel", String(random.next() % 80 + 20)),
            ("heading", Self.decimal(Double(random.next() % 3600) / 10, places: 1)),
        ]

        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(size)
        var sequenceOffset: Int?
        for (name, value) in fields {
            let member = Array((out.count > 1 ? "," : "").utf8) + Self.jsonString(name) + [UInt8(ascii: ":")] + Self.jsonString(value)
            // Room must remain for the closing brace.
            guard out.count + member.count + 1 <= size else { break }
            if name == "deliveryId" { sequenceOffset = out.count + member.count - 1 - Self.sequenceDigits }
            out += member
        }
        let padOverhead = (out.count > 1 ? 1 : 0) + #""pad":"""#.utf8.count
        let left = size - out.count - 1
        if left >= padOverhead {
            out += Array((out.count > 1 ? "," : "").utf8) + Array(#""pad":""#.utf8)
            out += [UInt8](repeating: UInt8(ascii: "x"), count: left - padOverhead)
            out.append(UInt8(ascii: "\""))
        } else {
            out += [UInt8](repeating: UInt8(ascii: " "), count: left)
        }
        out.append(UInt8(ascii: "}"))
        self.bytes = out
        self.sequenceOffset = sequenceOffset
    }

    /// Lower-case hex digits of `value`'s low `digits` nibbles.
    static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text.suffix(digits)
    }

    /// The lower-case ASCII hex digit of a nibble.
    @inlinable static func hexDigit(_ nibble: UInt64) -> UInt8 {
        nibble < 10 ? UInt8(truncatingIfNeeded: nibble) &+ 48 : UInt8(truncatingIfNeeded: nibble) &+ 87
    }

    /// `value` with exactly `places` decimals, without Foundation's formatters.
    static func decimal(_ value: Double, places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = Int64((abs(value) * scale).rounded())
        let whole = scaled / Int64(scale)
        let fraction = String(scaled % Int64(scale))
        let sign = value < 0 && scaled != 0 ? "-" : ""
        return places == 0 ? "\(sign)\(whole)" : "\(sign)\(whole)." + String(repeating: "0", count: places - fraction.count) + fraction
    }

    /// `time` as .NET's invariant "G" format with offset, as the scenario's events carry it:
    /// `MM/dd/yyyy HH:mm:ss +00:00`.
    static func occurrenceTime(_ time: Int64) -> String {
        let days = time >= 0 ? time / 86_400 : (time - 86_399) / 86_400
        let seconds = time - days * 86_400
        let date = Timestamp.civilDate(daysSince1970: days)
        let (year, month, day) = (Int64(date.year), Int64(date.month), Int64(date.day))
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(month))/\(two(day))/\(year) \(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60)) +00:00"
    }

    /// A JSON string literal for `text`, quotes included.
    static func jsonString(_ text: String) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out += [UInt8(ascii: "\\"), byte]
            case 0..<0x20:
                out += Array("\\u00".utf8) + [hexDigit(UInt64(byte >> 4)), hexDigit(UInt64(byte & 0xF))]
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }
}
