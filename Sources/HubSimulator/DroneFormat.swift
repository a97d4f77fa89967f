import HubCore

/// The scenario's text formats.
public enum DroneFormat {
    /// `value` with exactly `decimals` (0…9) digits after the point, rounded half away from zero; never
    /// "-0.00"; a value that is not finite or too large to format is written as 0.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        let decimals = min(max(decimals, 0), 9)
        var scale: UInt64 = 1
        for _ in 0..<decimals { scale *= 10 }
        var scaled = (value * Double(scale)).rounded()
        if !scaled.isFinite || abs(scaled) >= 9.0e18 { scaled = 0 }
        let magnitude = UInt64(abs(scaled))
        var text = scaled < 0 && magnitude != 0 ? "-" : ""
        text += String(magnitude / scale)
        guard decimals > 0 else { return text }
        let fraction = String(magnitude % scale)
        return text + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }

    /// `MM/dd/yyyy HH:mm:ss +00:00` in UTC, zero-padded, 24-hour: `04/17/2018 20:25:09 +00:00`
    /// (milliseconds are dropped).
    public static func occurrenceTime(_ milliseconds: Int64) -> String {
        let seconds = floorDivide(milliseconds, 1_000)
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = Timestamp.civilDate(daysSince1970: days)
        return pad(month, 2) + "/" + pad(day, 2) + "/" + pad(year, 4) + " " + pad(secondOfDay / 3_600, 2) + ":"
            + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2) + " +00:00"
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return a % b < 0 ? q - 1 : q
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
