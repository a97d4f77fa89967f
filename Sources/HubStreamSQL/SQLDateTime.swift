import HubCore

/// Reading and doing arithmetic on datetimes (milliseconds since 1970, UTC).
///
/// Accepted text: ISO 8601 (`2026-11-24T10:00:00Z`, fractions, offsets — via `Timestamp(iso8601:)`,
/// plus a space instead of `T` and a missing zone meaning UTC) and the drone scenario's
/// `MM/dd/yyyy HH:mm:ss +hh:mm` (`04/17/2018 20:25:09 +00:00`).
public enum SQLDateTime {
    public static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingSQLSpaces()
        if let t = Timestamp(iso8601: trimmed) { return t.rawValue }
        if trimmed.count >= 19 {
            var iso = trimmed.replacingFirst(" ", at: 10, with: "T")
            if Timestamp(iso8601: iso) == nil, !iso.hasSuffix("Z"), !iso.dropFirst(19).contains(where: { $0 == "+" || $0 == "-" }) { iso += "Z" }
            if let t = Timestamp(iso8601: iso) { return t.rawValue }
        }
        return parseUSFormat(trimmed)
    }

    /// `MM/dd/yyyy HH:mm:ss[ +hh:mm]`.
    private static func parseUSFormat(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19, bytes[2] == UInt8(ascii: "/"), bytes[5] == UInt8(ascii: "/"), bytes[10] == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var n = 0
            for i in range {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) else { return nil }
                n = n * 10 + Int(bytes[i] - UInt8(ascii: "0"))
            }
            return n
        }
        guard let month = number(0..<2), let day = number(3..<5), let year = number(6..<10), let hour = number(11..<13),
            let minute = number(14..<16), let second = number(17..<19), (1...12).contains(month), (1...31).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var offsetMinutes = 0
        let rest = bytes[19...].drop { $0 == UInt8(ascii: " ") }
        if !rest.isEmpty {
            let zone = Array(rest)
            guard zone.count == 6, zone[0] == UInt8(ascii: "+") || zone[0] == UInt8(ascii: "-"), zone[3] == UInt8(ascii: ":") else { return nil }
            let digits = zone.map { Int($0) - Int(UInt8(ascii: "0")) }
            guard [1, 2, 4, 5].allSatisfy({ (0...9).contains(digits[$0]) }) else { return nil }
            offsetMinutes = (digits[1] * 10 + digits[2]) * 60 + digits[4] * 10 + digits[5]
            if zone[0] == UInt8(ascii: "-") { offsetMinutes = -offsetMinutes }
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        return seconds * 1000
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        Int(Timestamp.daysSince1970(year: year, month: month, day: day))
    }

    /// (year, month, day) of days since 1970-01-01.
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        Timestamp.civilDate(daysSince1970: Int64(days))
    }

    /// Milliseconds in one `unit` for the fixed-length units; nil for month/quarter/year.
    public static func milliseconds(per unit: String) -> Int64? {
        switch unit.lowercased() {
        case "millisecond", "ms": 1
        case "second", "ss", "s": 1000
        case "minute", "mi", "n": 60_000
        case "hour", "hh": 3_600_000
        case "day", "dd", "d": 86_400_000
        case "week", "wk", "ww": 7 * 86_400_000
        default: nil
        }
    }

    /// `DATEADD(unit, n, t)`, months and years by calendar (the day clamped to the month's length).
    static func add(_ unit: String, _ amount: Int64, to ms: Int64) -> Int64? {
        if let step = milliseconds(per: unit) {
            let (product, overflow) = step.multipliedReportingOverflow(by: amount)
            return overflow ? nil : ms.addingReportingOverflow(product).overflow ? nil : ms + product
        }
        let perUnit: Int64
        switch unit.lowercased() {
        case "month", "mm", "m": perUnit = 1
        case "quarter", "qq", "q": perUnit = 3
        case "year", "yyyy", "yy": perUnit = 12
        default: return nil
        }
        // Years 1…9999 only: keeps the calendar arithmetic below far from overflow.
        guard Swift.abs(amount) <= 12 * 10_000 else { return nil }
        let months = amount * perUnit
        let dayMs = ms.flooredModulo(86_400_000)
        let days = Int((ms - dayMs) / 86_400_000)
        let (y, m, d) = civil(fromDays: days)
        let total = Int64(y) * 12 + Int64(m - 1) + months
        let year = Int(total.flooredDivision(by: 12))
        guard (1...9999).contains(year) else { return nil }
        let month = Int(total.flooredModulo(12)) + 1
        let monthLength = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return Int64(daysFromCivil(year: year, month: month, day: min(d, monthLength))) * 86_400_000 + dayMs
    }

    /// `DATEDIFF(unit, a, b)`: boundaries crossed from `a` to `b` (as SQL Server counts them).
    static func difference(_ unit: String, from a: Int64, to b: Int64) -> Int64? {
        if let step = milliseconds(per: unit) {
            return b.flooredDivision(by: step) - a.flooredDivision(by: step)
        }
        let (ya, ma, _) = civil(fromDays: Int(a.flooredDivision(by: 86_400_000)))
        let (yb, mb, _) = civil(fromDays: Int(b.flooredDivision(by: 86_400_000)))
        switch unit.lowercased() {
        case "month", "mm", "m": return Int64((yb - ya) * 12 + (mb - ma))
        case "quarter", "qq", "q": return Int64((yb * 4 + (mb - 1) / 3) - (ya * 4 + (ma - 1) / 3))
        case "year", "yyyy", "yy": return Int64(yb - ya)
        default: return nil
        }
    }

    /// `DATEPART(unit, t)`.
    static func part(_ unit: String, of ms: Int64) -> Int64? {
        let dayMs = ms.flooredModulo(86_400_000)
        let days = Int(ms.flooredDivision(by: 86_400_000))
        let (y, m, d) = civil(fromDays: days)
        switch unit.lowercased() {
        case "year", "yyyy", "yy": return Int64(y)
        case "quarter", "qq", "q": return Int64((m - 1) / 3 + 1)
        case "month", "mm", "m": return Int64(m)
        case "day", "dd", "d": return Int64(d)
        case "dayofyear", "dy", "y": return Int64(days - daysFromCivil(year: y, month: 1, day: 1) + 1)
        case "weekday", "dw": return Int64((days + 4).flooredModulo(7) + 1)  // 1970-01-01 was a Thursday; Sunday = 1
        case "hour", "hh": return dayMs / 3_600_000
        case "minute", "mi", "n": return dayMs / 60_000 % 60
        case "second", "ss", "s": return dayMs / 1000 % 60
        case "millisecond", "ms": return dayMs % 1000
        default: return nil
        }
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }
}

extension BinaryInteger {
    func flooredDivision(by divisor: Self) -> Self {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }

    func flooredModulo(_ divisor: Self) -> Self {
        let r = self % divisor
        return r != 0 && (r < 0) != (divisor < 0) ? r + divisor : r
    }
}

extension String {
    func trimmingSQLSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }

    /// The string with the character at offset `at` replaced when it is `character`.
    func replacingFirst(_ character: Character, at offset: Int, with replacement: Character) -> String {
        var chars = Array(self)
        guard offset < chars.count, chars[offset] == character else { return self }
        chars[offset] = replacement
        return String(chars)
    }
}
