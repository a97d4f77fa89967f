/// InfluxDB line protocol (the format Telegraf, InfluxDB clients and the tsbench tool write), parsed
/// without per-line allocation:
///
///     measurement[,tag=value…] field=value[,field=value…] [timestamp]
///
/// - measurement: commas and spaces escaped with `\`; tag keys, tag values and field keys also escape `=`;
/// - field values: floats (`1.5`, `-3e2`), integers `12i`, unsigned `12u`, booleans (`t`, `true`, `F`,
///   `FALSE` …) and double-quoted strings (`\"` and `\\` escaped);
/// - the timestamp is an integer in the request's precision (`ns` by default, as InfluxDB), converted to
///   Meridian's milliseconds (sub-millisecond digits are truncated); without one, the caller's `now` is used;
/// - blank lines and lines starting with `#` are skipped.
///
/// A malformed line throws with its line number and the reason; callers reject the whole request, so a
/// write either stores every point or none.
public struct LineProtocolParser: Sendable {
    /// Timestamp units a request may declare.
    public enum Precision: String, Sendable, CaseIterable {
        case ns, us, ms, s, m, h

        /// `u` is InfluxDB's spelling of microseconds.
        public init?(parameter: String) {
            if parameter == "u" { self = .us } else { self.init(rawValue: parameter) }
        }

        /// The timestamp in milliseconds, or nil when it overflows.
        func milliseconds(_ value: Int64) -> Int64? {
            switch self {
            case .ns: return value / 1_000_000
            case .us: return value / 1_000
            case .ms: return value
            case .s: return multiply(value, 1_000)
            case .m: return multiply(value, 60_000)
            case .h: return multiply(value, 3_600_000)
            }
        }

        private func multiply(_ value: Int64, _ factor: Int64) -> Int64? {
            let (result, overflow) = value.multipliedReportingOverflow(by: factor)
            return overflow ? nil : result
        }
    }

    /// A field's value.
    public enum FieldValue: Sendable, Hashable {
        case float(Double)
        case integer(Int64)
        case unsigned(UInt64)
        case boolean(Bool)
        case string(String)
    }

    /// One parsed line; the arrays are reused from line to line (copy what you keep).
    public struct Line: Sendable {
        public var measurement = ""
        public var tags: [(key: String, value: String)] = []
        public var fields: [(key: String, value: FieldValue)] = []
        /// Milliseconds since the epoch.
        public var time: Int64 = 0

        /// The value of tag `key`, if present.
        public func tag(_ key: String) -> String? {
            for tag in tags where tag.key == key { return tag.value }
            return nil
        }
    }

    public var precision: Precision
    /// Longest accepted line, in bytes.
    public var maximumLineLength: Int
    /// Most fields (and, separately, tags) on one line.
    public var maximumFields: Int

    public init(precision: Precision = .ns, maximumLineLength: Int = 64 * 1024, maximumFields: Int = 256) {
        self.precision = precision
        self.maximumLineLength = maximumLineLength
        self.maximumFields = maximumFields
    }

    /// Parses every line of `bytes`, calling `body` for each; `now` (ms) stamps lines without a timestamp.
    /// Returns the number of lines parsed.
    @discardableResult
    public func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, now: Int64, _ body: (borrowing Line) throws(TimeSeriesError) -> Void
    ) throws(TimeSeriesError) -> Int {
        var line = Line()
        var start = 0
        var number = 0
        var count = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            number += 1
            var stop = end
            if stop > start, bytes[stop - 1] == 0x0D { stop -= 1 }  // CRLF
            var first = start
            while first < stop, bytes[first] == 0x20 || bytes[first] == 0x09 { first += 1 }
            if first < stop, bytes[first] != UInt8(ascii: "#") {
                guard stop - first <= maximumLineLength else {
                    throw TimeSeriesError(.invalidArgument, "line \(number): longer than \(maximumLineLength) bytes")
                }
                var cursor = Cursor(bytes: UnsafeBufferPointer(rebasing: bytes[first..<stop]), line: number)
                try parseLine(&cursor, into: &line, now: now)
                try body(line)
                count += 1
            }
            start = end + 1
        }
        return count
    }

    /// `parse` over an array.
    @discardableResult
    public func parse(_ bytes: [UInt8], now: Int64, _ body: (borrowing Line) throws(TimeSeriesError) -> Void) throws(TimeSeriesError) -> Int {
        try bytes.withUnsafeBufferPointer { (buffer) throws(TimeSeriesError) -> Int in try parse(buffer, now: now, body) }
    }

    private func parseLine(_ cursor: inout Cursor, into line: inout Line, now: Int64) throws(TimeSeriesError) {
        line.tags.removeAll(keepingCapacity: true)
        line.fields.removeAll(keepingCapacity: true)
        line.measurement = try cursor.token(until: [0x2C, 0x20], escapes: [0x2C, 0x20], what: "measurement")
        guard !line.measurement.isEmpty else { throw cursor.error("missing measurement") }
        // Tags: ,key=value pairs up to the first unescaped space.
        while cursor.peek == 0x2C {
            cursor.advance()
            let key = try cursor.token(until: [0x3D, 0x2C, 0x20], escapes: [0x2C, 0x3D, 0x20], what: "tag key")
            guard cursor.peek == 0x3D, !key.isEmpty else { throw cursor.error("tag \(key.isEmpty ? "" : "'\(key)' ")missing '='") }
            cursor.advance()
            let value = try cursor.token(until: [0x2C, 0x20], escapes: [0x2C, 0x3D, 0x20], what: "tag value")
            guard !value.isEmpty else { throw cursor.error("tag '\(key)' has an empty value") }
            guard line.tags.count < maximumFields else { throw cursor.error("more than \(maximumFields) tags") }
            line.tags.append((key, value))
        }
        guard cursor.peek == 0x20 else { throw cursor.error("missing fields") }
        cursor.skipSpaces()
        // Fields: key=value pairs separated by commas.
        repeat {
            if !line.fields.isEmpty { cursor.advance() }  // the comma
            let key = try cursor.token(until: [0x3D, 0x2C, 0x20], escapes: [0x2C, 0x3D, 0x20], what: "field key")
            guard cursor.peek == 0x3D, !key.isEmpty else { throw cursor.error("field \(key.isEmpty ? "" : "'\(key)' ")missing '='") }
            cursor.advance()
            let value = try cursor.fieldValue(key)
            guard line.fields.count < maximumFields else { throw cursor.error("more than \(maximumFields) fields") }
            line.fields.append((key, value))
        } while cursor.peek == 0x2C
        if cursor.atEnd {
            line.time = now
            return
        }
        guard cursor.peek == 0x20 else { throw cursor.error("unexpected character after the fields") }
        cursor.skipSpaces()
        if cursor.atEnd {
            line.time = now
            return
        }
        guard let raw = cursor.integer(), cursor.atEnd else { throw cursor.error("bad timestamp") }
        guard let time = precision.milliseconds(raw) else { throw cursor.error("timestamp out of range") }
        line.time = time
    }

    /// A position in one line.
    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        let line: Int
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>, line: Int) {
            self.bytes = bytes
            self.line = line
        }

        var atEnd: Bool { index >= bytes.count }
        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func advance() { index += 1 }

        mutating func skipSpaces() {
            while index < bytes.count, bytes[index] == 0x20 { index += 1 }
        }

        func error(_ reason: String) -> TimeSeriesError {
            TimeSeriesError(.invalidArgument, "line \(line) column \(index + 1): \(reason)")
        }

        /// Bytes up to an unescaped stop byte; `\` before an escapable byte yields that byte.
        mutating func token(until stops: StaticByteSet, escapes: StaticByteSet, what: String) throws(TimeSeriesError) -> String {
            let start = index
            var escaped = false
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0x5C, index + 1 < bytes.count, escapes.contains(bytes[index + 1]) || bytes[index + 1] == 0x5C {
                    escaped = true
                    index += 2
                    continue
                }
                if stops.contains(byte) { break }
                index += 1
            }
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<index])
            guard escaped else { return String(decoding: raw, as: UTF8.self) }
            var out: [UInt8] = []
            out.reserveCapacity(raw.count)
            var i = 0
            while i < raw.count {
                if raw[i] == 0x5C, i + 1 < raw.count, escapes.contains(raw[i + 1]) || raw[i + 1] == 0x5C {
                    out.append(raw[i + 1])
                    i += 2
                } else {
                    out.append(raw[i])
                    i += 1
                }
            }
            return String(decoding: out, as: UTF8.self)
        }

        /// An optionally signed decimal integer.
        mutating func integer() -> Int64? {
            var negative = false
            if peek == UInt8(ascii: "-") {
                negative = true
                index += 1
            }
            let start = index
            var value: Int64 = 0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                let digit = Int64(bytes[index] - 0x30)
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
                if o1 || o2 { return nil }
                value = sum
                index += 1
            }
            return index > start ? value : nil
        }

        mutating func fieldValue(_ key: String) throws(TimeSeriesError) -> FieldValue {
            guard let first = peek else { throw error("field '\(key)' has no value") }
            if first == 0x22 { return .string(try quoted(key)) }
            let start = index
            while index < bytes.count, bytes[index] != 0x2C, bytes[index] != 0x20 { index += 1 }
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<index])
            guard let last = raw.last else { throw error("field '\(key)' has no value") }
            switch last {
            case UInt8(ascii: "i"):
                guard let value = Int64(String(decoding: UnsafeBufferPointer(rebasing: raw.dropLast()), as: UTF8.self)) else {
                    throw error("field '\(key)': bad integer")
                }
                return .integer(value)
            case UInt8(ascii: "u"):
                guard let value = UInt64(String(decoding: UnsafeBufferPointer(rebasing: raw.dropLast()), as: UTF8.self)) else {
                    throw error("field '\(key)': bad unsigned integer")
                }
                return .unsigned(value)
            default:
                break
            }
            if let boolean = Self.boolean(raw) { return .boolean(boolean) }
            guard let value = Self.float(raw) else { throw error("field '\(key)': bad value") }
            return .float(value)
        }

        private mutating func quoted(_ key: String) throws(TimeSeriesError) -> String {
            index += 1  // opening quote
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0x5C, index + 1 < bytes.count, bytes[index + 1] == 0x22 || bytes[index + 1] == 0x5C {
                    out.append(bytes[index + 1])
                    index += 2
                    continue
                }
                if byte == 0x22 {
                    index += 1
                    return String(decoding: out, as: UTF8.self)
                }
                out.append(byte)
                index += 1
            }
            throw error("field '\(key)': unterminated string")
        }

        private static func boolean(_ raw: UnsafeBufferPointer<UInt8>) -> Bool? {
            switch raw.count {
            case 1:
                switch raw[0] {
                case UInt8(ascii: "t"), UInt8(ascii: "T"): return true
                case UInt8(ascii: "f"), UInt8(ascii: "F"): return false
                default: return nil
                }
            case 4, 5:
                let text = String(decoding: raw, as: UTF8.self)
                switch text {
                case "true", "True", "TRUE": return true
                case "false", "False", "FALSE": return false
                default: return nil
                }
            default:
                return nil
            }
        }

        /// A decimal float; the common `-12.34` shape is parsed exactly without going through a String.
        private static func float(_ raw: UnsafeBufferPointer<UInt8>) -> Double? {
            // Fast path: [-]digits[.digits] with at most 15 significant digits is exact as Int / 10^k.
            var i = 0
            var negative = false
            if raw[0] == UInt8(ascii: "-") {
                negative = true
                i = 1
            }
            var mantissa: Int64 = 0
            var digits = 0
            var scale = -1
            var simple = i < raw.count
            while i < raw.count {
                let byte = raw[i]
                if byte >= 0x30, byte <= 0x39 {
                    mantissa = mantissa &* 10 &+ Int64(byte - 0x30)
                    digits += 1
                    if scale >= 0 { scale += 1 }
                } else if byte == UInt8(ascii: "."), scale < 0 {
                    scale = 0
                } else {
                    simple = false
                    break
                }
                i += 1
            }
            if simple, digits > 0, digits <= 15, scale <= 15 {
                let value = scale > 0 ? Double(mantissa) / powersOfTen[scale] : Double(mantissa)
                return negative ? -value : value
            }
            guard let value = Double(String(decoding: raw, as: UTF8.self)), value.isFinite else { return nil }
            return value
        }
    }
}

/// 10^0 … 10^15, exact as Doubles (so `n / 10^k` is the correctly rounded decimal).
private let powersOfTen: [Double] = (0...15).map { k in (0..<k).reduce(1.0) { x, _ in x * 10 } }

/// A small set of ASCII bytes, checked without allocation.
struct StaticByteSet: ExpressibleByArrayLiteral {
    private let bits: (UInt64, UInt64)

    init(arrayLiteral elements: UInt8...) {
        var low: UInt64 = 0
        var high: UInt64 = 0
        for byte in elements where byte < 128 {
            if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
        }
        bits = (low, high)
    }

    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        if byte < 64 { return bits.0 & (1 << UInt64(byte)) != 0 }
        if byte < 128 { return bits.1 & (1 << UInt64(byte - 64)) != 0 }
        return false
    }
}
