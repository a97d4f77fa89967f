/// How long data is kept: defaults for raw points and the two roll-ups, and rules for series matched by
/// device-id and measure-name patterns (`*` matches any run of characters, `?` one; the first matching rule
/// wins). Whole partitions are dropped once every series' retention allows it; until then compaction drops
/// the expired series from them. Retention is enforced per partition: a series' data goes when the end of
/// its partition is older than its retention.
public struct RetentionPolicy: Sendable, Hashable {
    /// Raw points: 30 days.
    public var raw: Duration = .seconds(30 * 86_400)
    /// 1-minute roll-ups: 90 days.
    public var minute: Duration = .seconds(90 * 86_400)
    /// 1-hour roll-ups: 2 years (730 days).
    public var hour: Duration = .seconds(730 * 86_400)
    /// Rules for some series, tried in order; the first match wins over the defaults above.
    public var rules: [RetentionRule] = []

    /// A policy with the given defaults and rules.
    public init(raw: Duration = .seconds(30 * 86_400), minute: Duration = .seconds(90 * 86_400), hour: Duration = .seconds(730 * 86_400), rules: [RetentionRule] = []) {
        self.raw = raw
        self.minute = minute
        self.hour = hour
        self.rules = rules
    }
}

/// Retention for the series whose device id and measure name match the patterns.
public struct RetentionRule: Sendable, Hashable {
    /// Glob over device ids (`*` any run, `?` one character).
    public var devicePattern: String
    /// Glob over measure names.
    public var measurePattern: String
    /// Retention of raw points.
    public var raw: Duration
    /// Retention of 1-minute roll-ups (at least `raw`).
    public var minute: Duration
    /// Retention of 1-hour roll-ups (at least `raw`).
    public var hour: Duration

    /// A rule for the series matching both patterns.
    public init(devicePattern: String = "*", measurePattern: String = "*", raw: Duration, minute: Duration, hour: Duration) {
        self.devicePattern = devicePattern
        self.measurePattern = measurePattern
        self.raw = raw
        self.minute = minute
        self.hour = hour
    }
}

/// Retention in milliseconds; `horizons[0]` raw, `[1]` minute, `[2]` hour.
struct ResolvedRetention: Sendable {
    struct Rule: Sendable {
        var device: [UInt8]
        var measure: [UInt8]
        var horizons: [Int64]
    }

    var defaults: [Int64]
    var rules: [Rule]

    init(_ policy: RetentionPolicy) throws(TimeSeriesError) {
        func check(_ raw: Duration, _ minute: Duration, _ hour: Duration) throws(TimeSeriesError) -> [Int64] {
            let values = [raw.milliseconds, minute.milliseconds, hour.milliseconds]
            guard values.allSatisfy({ $0 > 0 }), values[1] >= values[0], values[2] >= values[0] else {
                throw TimeSeriesError(.invalidArgument, "configuration: retention must be positive and roll-ups kept at least as long as raw points")
            }
            return values
        }
        defaults = try check(policy.raw, policy.minute, policy.hour)
        var rules: [Rule] = []
        for rule in policy.rules {
            rules.append(Rule(device: Array(rule.devicePattern.utf8), measure: Array(rule.measurePattern.utf8), horizons: try check(rule.raw, rule.minute, rule.hour)))
        }
        self.rules = rules
    }

    /// The retention of a series: the first matching rule's, else the defaults.
    func horizons(for key: SeriesKey) -> [Int64] {
        for rule in rules where Glob.matches(rule.device, Array(key.device.utf8)) && Glob.matches(rule.measure, Array(key.measure.utf8)) {
            return rule.horizons
        }
        return defaults
    }

    /// The longest and shortest retention of a level (0 raw, 1 minute, 2 hour) over defaults and rules.
    func longest(_ level: Int) -> Int64 { rules.reduce(defaults[level]) { max($0, $1.horizons[level]) } }
    func shortest(_ level: Int) -> Int64 { rules.reduce(defaults[level]) { min($0, $1.horizons[level]) } }
}

/// Glob matching over UTF-8 bytes: `*` any run (also empty), `?` one byte, anything else literally.
enum Glob {
    static func matches(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0, t = 0
        var star = -1, resume = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t] {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p
                resume = t
                p += 1
            } else if star >= 0 {
                p = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
