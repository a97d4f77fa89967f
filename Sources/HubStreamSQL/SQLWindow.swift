/// A `GROUP BY` window, with Stream Analytics' semantics: every window is the interval (start, end] —
/// an event at exactly a window's end belongs to it — and `System.Timestamp()` of its output is `end`.
public enum SQLWindow: Sendable, Hashable {
    /// `TumblingWindow(unit, size [, offset])`: back-to-back windows of `size`.
    case tumbling(size: Int64, offset: Int64)
    /// `HoppingWindow(unit, size, hop [, offset])` (or `HoppingWindow(Duration(unit, size), Hop(unit, hop))`):
    /// windows of `size` ending every `hop`.
    case hopping(size: Int64, hop: Int64, offset: Int64)
    /// `SlidingWindow(unit, size)`: a window (t - size, t] for every time t an event enters or leaves it.
    case sliding(size: Int64)
    /// `SessionWindow(unit, timeout, maximum)`: events less than `timeout` apart, for at most `maximum`.
    case session(timeout: Int64, maximum: Int64)
    /// `SnapshotWindow()`: the events that share one timestamp.
    case snapshot

    /// The window of a `GROUP BY` call, or nil when `call` is not a window. Sizes are in milliseconds.
    static func parse(_ call: SQLCall, at location: SQLLocation) throws(SQLError) -> SQLWindow? {
        let name = call.name.uppercased()
        guard ["TUMBLINGWINDOW", "HOPPINGWINDOW", "SLIDINGWINDOW", "SESSIONWINDOW", "SNAPSHOTWINDOW"].contains(name) else { return nil }
        if name == "SNAPSHOTWINDOW" {
            guard call.arguments.isEmpty else { throw SQLError("SnapshotWindow() takes no arguments", at: location) }
            return .snapshot
        }
        var durations: [Int64] = []
        var arguments = call.arguments[...]
        // Either (unit, n, m, …) or (Duration(unit, n), Hop(unit, m), Offset(unit, k)).
        if case .call = arguments.first?.kind {
            for argument in arguments {
                guard case .call(let inner) = argument.kind, ["DURATION", "HOP", "OFFSET"].contains(inner.name.uppercased()), inner.arguments.count == 2
                else { throw SQLError("\(call.name) takes Duration(unit, n), Hop(unit, n) and Offset(unit, n)", at: argument.location) }
                durations.append(try duration(unit: inner.arguments[0], amount: inner.arguments[1], in: call.name))
            }
        } else {
            guard let unitArgument = arguments.popFirst() else { throw SQLError("\(call.name) needs a time unit and a size", at: location) }
            for argument in arguments { durations.append(try duration(unit: unitArgument, amount: argument, in: call.name)) }
        }
        // Sizes, hops and timeouts must be positive; only offsets may be 0.
        let sizes = name == "TUMBLINGWINDOW" ? durations.prefix(1) : name == "HOPPINGWINDOW" ? durations.prefix(2) : durations[...]
        guard !sizes.contains(0) else { throw SQLError("\(call.name) needs sizes greater than 0", at: location) }
        switch name {
        case "TUMBLINGWINDOW":
            guard (1...2).contains(durations.count) else { throw SQLError("TumblingWindow(unit, size [, offset])", at: location) }
            let offset = durations.count > 1 ? durations[1] : 0
            guard offset < durations[0] else { throw SQLError("the offset must be smaller than the window", at: location) }
            return .tumbling(size: durations[0], offset: offset)
        case "HOPPINGWINDOW":
            guard (2...3).contains(durations.count) else { throw SQLError("HoppingWindow(unit, size, hop [, offset])", at: location) }
            let offset = durations.count > 2 ? durations[2] : 0
            guard durations[1] <= durations[0] else { throw SQLError("the hop must not be larger than the window", at: location) }
            guard offset < durations[1] else { throw SQLError("the offset must be smaller than the hop", at: location) }
            return .hopping(size: durations[0], hop: durations[1], offset: offset)
        case "SLIDINGWINDOW":
            guard durations.count == 1 else { throw SQLError("SlidingWindow(unit, size)", at: location) }
            return .sliding(size: durations[0])
        default:
            guard durations.count == 2, durations[0] <= durations[1] else {
                throw SQLError("SessionWindow(unit, timeout, maximum duration) with timeout ≤ maximum", at: location)
            }
            return .session(timeout: durations[0], maximum: durations[1])
        }
    }

    /// `unit` and a positive whole `amount` as milliseconds (at most 7 days, Stream Analytics' limit).
    static func duration(unit: SQLExpression, amount: SQLExpression, in function: String) throws(SQLError) -> Int64 {
        guard case .path(let parts) = unit.kind, parts.count == 1 else {
            throw SQLError("\(function) needs a time unit (day, hour, minute, second, millisecond)", at: unit.location)
        }
        guard let step = SQLDateTime.milliseconds(per: parts[0]), step <= 86_400_000 else {
            throw SQLError("unknown time unit \(parts[0]) (day, hour, minute, second, millisecond)", at: unit.location)
        }
        guard case .integer(let n) = amount.kind, n >= 0 else { throw SQLError("\(function) needs whole, non-negative sizes", at: amount.location) }
        let ms = n.multipliedReportingOverflow(by: step)
        guard !ms.overflow, ms.partialValue <= 7 * 86_400_000 else { throw SQLError("windows are at most 7 days", at: amount.location) }
        return ms.partialValue
    }

    /// The ends of the fixed windows (tumbling, hopping) that contain time `t`.
    func ends(containing t: Int64) -> [Int64] {
        switch self {
        case .tumbling(let size, let offset):
            return [Self.ceiling(t - offset, size) + offset]
        case .hopping(let size, let hop, let offset):
            // Ends e = k·hop + offset with e - size < t ≤ e.
            let first = Self.ceiling(t - offset, hop) + offset
            var ends: [Int64] = []
            var end = first
            while end - size < t {
                ends.append(end)
                end += hop
            }
            return ends
        default:
            return []
        }
    }

    /// The least multiple of `step` that is ≥ `value`.
    static func ceiling(_ value: Int64, _ step: Int64) -> Int64 {
        let q = value.flooredDivision(by: step)
        return q * step == value ? value : (q + 1) * step
    }
}
