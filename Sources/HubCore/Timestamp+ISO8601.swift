extension Timestamp {
    /// What Azure IoT Hub writes in JSON for a time that never happened (`lastActivityTime` of a device
    /// that never connected): `0001-01-01T00:00:00Z`. msrest and the C# SDK parse it.
    public static let azureUnsetText = "0001-01-01T00:00:00Z"

    /// `time.iso8601`, or `azureUnsetText` for nil.
    public static func azureText(_ time: Timestamp?) -> String { time?.iso8601 ?? azureUnsetText }

    /// The time as Azure IoT Hub writes it in property bags and headers: ISO 8601 UTC with milliseconds,
    /// `2024-03-14T09:54:49.653Z` (always 24 characters for years 0000…9999).
    public var iso8601: String {
        let seconds = rawValue.flooredDivision(by: 1000)
        let millis = Int(rawValue - seconds * 1000)
        let days = seconds.flooredDivision(by: 86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = Self.civilDate(daysSince1970: days)
        var out = ""
        out.reserveCapacity(24)
        out += Self.pad(year, 4) + "-" + Self.pad(month, 2) + "-" + Self.pad(day, 2) + "T"
        out += Self.pad(secondOfDay / 3600, 2) + ":" + Self.pad(secondOfDay / 60 % 60, 2) + ":" + Self.pad(secondOfDay % 60, 2)
        out += "." + Self.pad(millis, 3) + "Z"
        return out
    }

    /// Parses the ISO 8601 forms devices and SDKs send: `YYYY-MM-DD` `T` (or `t` or a space, as Python's
    /// `str(datetime)` writes) `hh:mm:ss`, an optional fraction of any length (digits past milliseconds
    /// are truncated), then `Z`, an offset `±hh:mm` / `±hhmm`, or nothing (taken as UTC, as Python's naive
    /// `datetime.isoformat()` means). Nil for anything else, including out-of-range fields.
    public init?(iso8601 text: String) {
        var p = ISO8601Scanner(Array(text.utf8))
        guard let year = p.digits(4), p.take("-"), let month = p.digits(2), p.take("-"), let day = p.digits(2),
            p.takeAny(["T", "t", " "]), let hour = p.digits(2), p.take(":"), let minute = p.digits(2), p.take(":"),
            let second = p.digits(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var millis = 0
        if p.take(".") || p.take(",") {
            var count = 0
            while let d = p.digit() {
                if count < 3 { millis = millis * 10 + d }
                count += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<max(count, 3) { millis *= 10 }
        }
        var offsetMinutes = 0
        if p.takeAny(["Z", "z"]) {
        } else if let sign = p.sign() {
            guard let oh = p.digits(2), oh <= 23 else { return nil }
            _ = p.take(":")
            guard let om = p.digits(2), om <= 59 else { return nil }
            offsetMinutes = sign * (oh * 60 + om)
        }
        guard p.atEnd else { return nil }
        let days = Self.daysSince1970(year: year, month: month, day: day)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        self.init(rawValue: seconds * 1000 + Int64(millis))
    }

    /// Howard Hinnant's `civil_from_days`: the proleptic Gregorian date of a day count since 1970-01-01.
    public static func civilDate(daysSince1970: Int64) -> (year: Int, month: Int, day: Int) {
        let z = daysSince1970 + 719_468
        let era = z.flooredDivision(by: 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    /// Hinnant's `days_from_civil`, the inverse of `civilDate`.
    public static func daysSince1970(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = y.flooredDivision(by: 400)
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}

/// Reads an ISO 8601 string byte by byte.
private struct ISO8601Scanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }

    mutating func take(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    mutating func takeAny(_ characters: [Unicode.Scalar]) -> Bool {
        characters.contains { take($0) }
    }

    mutating func digit() -> Int? {
        guard index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") else { return nil }
        defer { index += 1 }
        return Int(bytes[index] - UInt8(ascii: "0"))
    }

    /// Exactly `count` digits as a number.
    mutating func digits(_ count: Int) -> Int? {
        var value = 0
        for _ in 0..<count {
            guard let d = digit() else { return nil }
            value = value * 10 + d
        }
        return value
    }

    /// `+` → 1, `-` → -1.
    mutating func sign() -> Int? {
        if take("+") { return 1 }
        if take("-") { return -1 }
        return nil
    }
}

extension Int64 {
    /// Division rounding toward negative infinity (times before 1970 format correctly).
    fileprivate func flooredDivision(by divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}
