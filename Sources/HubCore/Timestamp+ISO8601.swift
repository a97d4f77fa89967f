extension Timestamp {
    /// What Azure IoT Hub writes in JSON for a time that never happened (`lastActivityTime` of a device
    /// that never connected): `0001-01-01T00:00:00Z`. msrest and the C# SDK parse it.
    public static let azureUnsetText = "0001-01-01T00:00:00Z"

    /// ISO 8601 UTC with milliseconds, as Azure IoT Hub writes times in JSON: `2024-03-14T09:54:49.653Z`.
    public var iso8601: String {
        let seconds = rawValue.flooredQuotient(1000)
        let millis = Int(rawValue - seconds * 1000)
        let days = seconds.flooredQuotient(86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = Self.civilDate(daysSince1970: days)
        return "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))T\(Self.pad(secondOfDay / 3600, 2)):"
            + "\(Self.pad(secondOfDay / 60 % 60, 2)):\(Self.pad(secondOfDay % 60, 2)).\(Self.pad(millis, 3))Z"
    }

    /// `time.iso8601`, or `azureUnsetText` for nil.
    public static func azureText(_ time: Timestamp?) -> String { time?.iso8601 ?? azureUnsetText }

    /// Howard Hinnant's `civil_from_days`: the proleptic Gregorian date of a day count since 1970-01-01.
    private static func civilDate(daysSince1970: Int64) -> (year: Int, month: Int, day: Int) {
        let z = daysSince1970 + 719_468
        let era = z.flooredQuotient(146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}

extension Int64 {
    /// Division rounding toward negative infinity (times before 1970 still format correctly).
    fileprivate func flooredQuotient(_ divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}
