/// ISO 8601 durations as query intervals: `PT1M`, `PT30S`, `PT0.5S`, `PT1H30M`, `P1D`, `P1W`, `P1DT12H`.
/// Years and months are refused (they have no fixed length); so are empty, negative and zero durations.
public enum ISODuration {
    /// The duration in milliseconds, or nil when `text` is not a fixed-length ISO 8601 duration.
    public static func milliseconds(_ text: String) -> Int64? {
        var bytes = Array(text.utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 })[...]  // case-insensitive
        guard bytes.first == UInt8(ascii: "P") else { return nil }
        bytes = bytes.dropFirst()
        var total: Int64 = 0
        var inTime = false
        var sawComponent = false
        var lastUnitRank = -1
        while let first = bytes.first {
            if first == UInt8(ascii: "T") {
                guard !inTime else { return nil }
                inTime = true
                bytes = bytes.dropFirst()
                guard !bytes.isEmpty else { return nil }
                continue
            }
            // A number (digits, optionally a fraction — only seconds may carry one) then a unit letter.
            var whole: Int64 = 0
            var digits = 0
            while let byte = bytes.first, byte >= 0x30, byte <= 0x39 {
                let (times, o1) = whole.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(Int64(byte - 0x30))
                guard !o1, !o2 else { return nil }
                whole = sum
                digits += 1
                bytes = bytes.dropFirst()
            }
            var fractionMillis: Int64 = 0
            var hasFraction = false
            if let byte = bytes.first, byte == UInt8(ascii: ".") || byte == UInt8(ascii: ",") {
                hasFraction = true
                bytes = bytes.dropFirst()
                var scale: Int64 = 100
                var fractionDigits = 0
                while let byte = bytes.first, byte >= 0x30, byte <= 0x39 {
                    fractionMillis += Int64(byte - 0x30) * scale
                    scale /= 10
                    fractionDigits += 1
                    bytes = bytes.dropFirst()
                }
                guard fractionDigits > 0 else { return nil }
            }
            guard digits > 0, let unit = bytes.first else { return nil }
            bytes = bytes.dropFirst()
            let rank: Int
            let factor: Int64
            switch (unit, inTime) {
            case (UInt8(ascii: "W"), false): (rank, factor) = (0, 604_800_000)
            case (UInt8(ascii: "D"), false): (rank, factor) = (1, 86_400_000)
            case (UInt8(ascii: "H"), true): (rank, factor) = (2, 3_600_000)
            case (UInt8(ascii: "M"), true): (rank, factor) = (3, 60_000)
            case (UInt8(ascii: "S"), true): (rank, factor) = (4, 1_000)
            default: return nil  // years, months, or a unit on the wrong side of T
            }
            guard rank > lastUnitRank, !hasFraction || unit == UInt8(ascii: "S") else { return nil }
            lastUnitRank = rank
            let (scaled, o1) = whole.multipliedReportingOverflow(by: factor)
            let (sum, o2) = total.addingReportingOverflow(scaled)
            guard !o1, !o2 else { return nil }
            total = sum + fractionMillis
            sawComponent = true
        }
        guard sawComponent, total > 0 else { return nil }
        return total
    }

    /// `PT1M`-style text for a duration in milliseconds (the shortest exact form).
    public static func text(milliseconds: Int64) -> String {
        guard milliseconds > 0 else { return "PT0S" }
        var rest = milliseconds
        var out = "P"
        let days = rest / 86_400_000
        rest %= 86_400_000
        if days > 0 { out += "\(days)D" }
        guard rest > 0 else { return out }
        out += "T"
        let hours = rest / 3_600_000
        rest %= 3_600_000
        let minutes = rest / 60_000
        rest %= 60_000
        if hours > 0 { out += "\(hours)H" }
        if minutes > 0 { out += "\(minutes)M" }
        if rest > 0 {
            let seconds = rest / 1000
            let millis = rest % 1000
            if millis == 0 {
                out += "\(seconds)S"
            } else {
                var fraction = String(millis)
                fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
                while fraction.hasSuffix("0") { fraction.removeLast() }
                out += "\(seconds).\(fraction)S"
            }
        }
        return out
    }
}
