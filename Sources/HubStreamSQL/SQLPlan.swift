/// A checked job, ready to run: the parser's tree with names, functions, windows and grouping verified,
/// so that `SQLJob` meets no surprise at run time but bad data.
///
/// Checked here (each an `SQLError` at the offending place): inputs are `events` or a `WITH` step
/// defined earlier; every function exists and has the right arity shape; aggregates appear only with a
/// `GROUP BY` that has exactly one window; grouped queries select only group keys, aggregates and
/// `System.Timestamp()`; windows have valid units and sizes; `TIMESTAMP BY` only on `events`.
public struct SQLPlan: Sendable {
    /// `WITH` steps first, in order, then the statements; each reads `events` or an earlier step.
    let statements: [Statement]
    /// The `INTO` targets, in order of first appearance (`output` when a statement names none).
    public let outputs: [String]

    /// The name of the built-in stream input.
    public static let eventsInput = "events"
    /// The target of a statement without `INTO`.
    public static let defaultOutput = "output"

    struct Statement: Sendable {
        /// The step's name, or the output a statement writes `INTO`.
        var name: String
        var isStep: Bool
        var selects: [Select]
    }

    struct Select: Sendable {
        /// `events` or a step name (lower-cased).
        var source: String
        var alias: String
        var timestampBy: SQLExpression?
        var substreamKeys: [SQLExpression]
        var filter: SQLExpression?
        var items: [Item]
        var grouping: Grouping?
        var analytics: [Analytic]
        var joins: [Join] = []
        var applies: [Apply] = []
        var streamJoin: StreamJoin?
    }

    /// A JOIN of two streams, bounded in time by `DATEDIFF(unit, left, right) BETWEEN low AND high` in its
    /// condition: each event waits for partners only within those bounds.
    struct StreamJoin: Sendable {
        var outer: Bool
        /// The right input (`events` or a step), lower-cased.
        var source: String
        var alias: String
        var timestampBy: SQLExpression?
        var condition: SQLExpression
        var equality: (stream: SQLExpression, table: SQLExpression)?
        /// Bounds (ms, inclusive, widened by one unit less a millisecond so DATEDIFF's rounding to unit
        /// boundaries never excludes a pair the condition accepts) on `right time - left time`.
        var lower: Int64
        var upper: Int64
    }

    /// `CROSS APPLY` / `OUTER APPLY` of `GetArrayElements(array)` (rows `{ArrayIndex, ArrayValue}`) or
    /// `GetRecordProperties(record)` (rows `{PropertyName, PropertyValue}`).
    struct Apply: Sendable {
        var outer: Bool
        var properties: Bool
        var argument: SQLExpression
        var alias: String
    }

    /// A JOIN with reference data (a table the job is given, e.g. `twins` or a loaded file): each event
    /// meets the rows of the table that satisfy `condition`.
    struct Join: Sendable {
        var outer: Bool
        /// The table's name, lower-cased.
        var table: String
        var alias: String
        var condition: SQLExpression
        /// An equality `stream side = table side` among the condition's AND-ed terms, used to index the
        /// table; the whole condition is still checked for every candidate.
        var equality: (stream: SQLExpression, table: SQLExpression)?
    }

    enum Item: Sendable {
        case all(qualifier: String?)
        case column(name: String, expression: SQLExpression)
    }

    struct Grouping: Sendable {
        var window: SQLWindow
        var keys: [SQLExpression]
        var aggregates: [Aggregate]
        var having: SQLExpression?
    }

    struct Aggregate: Sendable {
        /// The call node (the evaluator looks its result up by it).
        var expression: SQLExpression
        var kind: SQLAccumulator.Kind
        /// What each event adds: the argument, or the ORDER BY key; nil for `COUNT(*)`.
        var argument: SQLExpression?
    }

    struct Analytic: Sendable {
        enum Kind: Sendable {
            /// `LAG(value [, offset [, default]])`: the value `offset` events back (1 by default).
            case lag(offset: Int, defaultValue: SQLExpression?)
            /// `LAST(value)`: the latest value, the current event included.
            case last
            /// `ISFIRST(unit, size)`: 1 for the first event of each tumbling window of that size.
            case isFirst(size: Int64)
            /// `AnomalyDetection_SpikeAndDip(value, confidence, historySize, mode)`.
            case spikeAndDip(confidence: Double, historySize: Int, mode: SQLAnomaly.Mode)
            /// `AnomalyDetection_ChangePoint(value, confidence, historySize)`.
            case changePoint(confidence: Double, historySize: Int)
        }
        var expression: SQLExpression
        var kind: Kind
        var value: SQLExpression?
        var partitionBy: [SQLExpression]
        /// History older than this (ms) is forgotten; nil = unbounded (count-bounded by `SQLJob`).
        var limit: Int64?
        var when: SQLExpression?
    }

    /// - Parameter references: the reference tables a JOIN may name (the hub's `twins`, loaded files).
    public init(_ script: SQLScript, references: Set<String> = []) throws(SQLError) {
        let references = Set(references.map { $0.lowercased() })
        var statements: [Statement] = []
        var known: Set<String> = [Self.eventsInput]
        for step in script.steps {
            let lowered = step.name.lowercased()
            guard !known.contains(lowered) else { throw SQLError("step \(step.name) is defined twice (or shadows events)", at: step.location) }
            statements.append(Statement(name: step.name, isStep: true, selects: try Self.plan(step.query, inputs: known, references: references, isStep: true)))
            known.insert(lowered)
        }
        var outputs: [String] = []
        for query in script.statements {
            let name = query.selects[0].into ?? Self.defaultOutput
            for select in query.selects.dropFirst() where (select.into ?? name) != name {
                throw SQLError("the parts of a UNION write INTO one output", at: select.location)
            }
            if !outputs.contains(name) { outputs.append(name) }
            statements.append(Statement(name: name, isStep: false, selects: try Self.plan(query, inputs: known, references: references, isStep: false)))
        }
        self.statements = statements
        self.outputs = outputs
    }

    /// Parses and plans `text`.
    public init(_ text: String, references: Set<String> = []) throws(SQLError) {
        try self.init(try SQLParser.parse(text), references: references)
    }

    private static func plan(_ query: SQLQuery, inputs: Set<String>, references: Set<String>, isStep: Bool) throws(SQLError) -> [Select] {
        var selects: [Select] = []
        for select in query.selects {
            if isStep, let into = select.into { throw SQLError("a WITH step cannot write INTO \(into)", at: select.location) }
            selects.append(try plan(select, inputs: inputs, references: references))
        }
        return selects
    }

    private static func plan(_ select: SQLSelect, inputs: Set<String>, references: Set<String>) throws(SQLError) -> Select {
        let source = select.from.name.lowercased()
        guard inputs.contains(source) else {
            throw SQLError("unknown input \(select.from.name) (events, or a WITH step defined before this query)", at: select.from.location)
        }
        var joins: [Join] = []
        var aliases: Set<String> = [select.from.referenceName.lowercased()]
        var streamJoin: StreamJoin?
        for join in select.joins {
            let table = join.source.name.lowercased()
            guard references.contains(table) else {
                if inputs.contains(table) {
                    guard streamJoin == nil, joins.isEmpty else {
                        throw SQLError("one JOIN of two streams per query, before any reference JOIN", at: join.location)
                    }
                    guard select.from.timestampOver.isEmpty, join.source.timestampOver.isEmpty else {
                        throw SQLError("TIMESTAMP BY … OVER is not supported with a JOIN of two streams yet", at: join.location)
                    }
                    if join.source.timestampBy != nil, table != eventsInput {
                        throw SQLError("TIMESTAMP BY applies to the events input; a step's events carry their own time", at: join.source.location)
                    }
                    let alias = join.source.referenceName
                    guard aliases.insert(alias.lowercased()).inserted else { throw SQLError("the alias \(alias) is used twice", at: join.source.location) }
                    for (call, node) in join.condition.calls where call.name.uppercased() != "DATEDIFF" { try checkScalar(call, at: node.location) }
                    guard let bounds = try timeBounds(in: join.condition, left: select.from.referenceName, right: alias) else {
                        throw SQLError(
                            "a JOIN of two streams needs DATEDIFF(unit, \(select.from.referenceName), \(alias)) BETWEEN low AND high in its ON condition",
                            at: join.location)
                    }
                    streamJoin = StreamJoin(
                        outer: join.kind == .leftOuter, source: table, alias: alias, timestampBy: join.source.timestampBy, condition: join.condition,
                        equality: equality(in: join.condition, tableAlias: alias), lower: bounds.lower, upper: bounds.upper)
                    continue
                }
                let known = references.sorted().joined(separator: ", ")
                throw SQLError("unknown reference input \(join.source.name)\(known.isEmpty ? "" : " (reference inputs: \(known))")", at: join.source.location)
            }
            if join.source.timestampBy != nil { throw SQLError("reference data has no TIMESTAMP BY", at: join.source.location) }
            let alias = join.source.referenceName
            guard aliases.insert(alias.lowercased()).inserted else { throw SQLError("the alias \(alias) is used twice", at: join.source.location) }
            for (call, node) in join.condition.calls { try checkScalar(call, at: node.location) }
            joins.append(Join(
                outer: join.kind == .leftOuter, table: table, alias: alias, condition: join.condition,
                equality: equality(in: join.condition, tableAlias: alias)))
        }
        var applies: [Apply] = []
        for apply in select.applies {
            guard case .call(let call) = apply.function.kind, ["GETARRAYELEMENTS", "GETRECORDPROPERTIES"].contains(call.name.uppercased()),
                call.arguments.count == 1, call.over == nil
            else { throw SQLError("APPLY takes GetArrayElements(array) or GetRecordProperties(record)", at: apply.function.location) }
            guard aliases.insert(apply.alias.lowercased()).inserted else { throw SQLError("the alias \(apply.alias) is used twice", at: apply.location) }
            for (inner, node) in call.arguments[0].calls { try checkScalar(inner, at: node.location) }
            applies.append(Apply(
                outer: apply.outer, properties: call.name.uppercased() == "GETRECORDPROPERTIES", argument: call.arguments[0], alias: apply.alias))
        }
        if select.from.timestampBy != nil, source != eventsInput {
            throw SQLError("TIMESTAMP BY applies to the events input; a step's events carry their own time", at: select.from.location)
        }
        if select.distinct || select.top != nil { throw SQLError("SELECT DISTINCT and TOP are not supported in stream queries", at: select.location) }

        var items: [Item] = []
        for (index, item) in select.items.enumerated() {
            switch item {
            case .all(let qualifier, let location):
                if let qualifier, qualifier.lowercased() != select.from.referenceName.lowercased(),
                    !select.joins.contains(where: { $0.source.referenceName.lowercased() == qualifier.lowercased() }),
                    !select.applies.contains(where: { $0.alias.lowercased() == qualifier.lowercased() }) {
                    throw SQLError("unknown input \(qualifier)", at: location)
                }
                items.append(.all(qualifier: qualifier))
            case .expression(let expression, let alias):
                items.append(.column(name: alias ?? defaultName(expression, index: index), expression: expression))
            }
        }

        // Functions: known, and aggregates / analytics where they may be.
        var aggregates: [Aggregate] = []
        var analytics: [Analytic] = []
        var window: SQLWindow?
        var keys: [SQLExpression] = []
        for key in select.groupBy {
            if case .call(let call) = key.kind, let parsed = try SQLWindow.parse(call, at: key.location) {
                guard window == nil else { throw SQLError("GROUP BY takes one window", at: key.location) }
                window = parsed
            } else {
                keys.append(key)
            }
        }
        let grouped = !select.groupBy.isEmpty
        if grouped && window == nil {
            throw SQLError("GROUP BY needs a window: TumblingWindow, HoppingWindow, SlidingWindow, SessionWindow or SnapshotWindow", at: select.groupBy[0].location)
        }
        var projected: [SQLExpression] = items.compactMap { if case .column(_, let e) = $0 { e } else { nil } }
        if let having = select.having { projected.append(having) }
        for expression in projected {
            for (call, node) in expression.calls {
                if let kind = try SQLAccumulator.kind(of: call, at: node.location) {
                    guard grouped else { throw SQLError("\(call.name) is an aggregate: it needs GROUP BY with a window", at: node.location) }
                    let argument: SQLExpression?
                    switch kind {
                    case .countRows: argument = nil
                    case .percentile, .topOne: argument = call.over?.orderBy
                    default: argument = call.arguments.first
                    }
                    aggregates.append(Aggregate(expression: node, kind: kind, argument: argument))
                } else if let analytic = try analytic(call, node) {
                    guard !grouped else { throw SQLError("\(call.name) cannot be used in a GROUP BY query", at: node.location) }
                    analytics.append(analytic)
                } else {
                    try checkScalar(call, at: node.location)
                }
            }
        }
        if let filter = select.filter {
            for (call, node) in filter.calls {
                if try SQLAccumulator.kind(of: call, at: node.location) != nil {
                    throw SQLError("aggregates belong in HAVING, not WHERE", at: node.location)
                } else if let analytic = try analytic(call, node) {
                    analytics.append(analytic)
                } else {
                    try checkScalar(call, at: node.location)
                }
            }
        }
        for expression in [select.from.timestampBy].compactMap({ $0 }) + select.from.timestampOver + keys {
            for (call, node) in expression.calls { try checkScalar(call, at: node.location) }
        }

        var grouping: Grouping?
        if let window {
            for item in items {
                switch item {
                case .all: throw SQLError("SELECT * cannot be grouped; name the keys and aggregates", at: select.location)
                case .column(_, let expression): try checkGrouped(expression, keys: keys)
                }
            }
            if let having = select.having { try checkGrouped(having, keys: keys) }
            grouping = Grouping(window: window, keys: keys, aggregates: aggregates, having: select.having)
        } else if let having = select.having {
            throw SQLError("HAVING needs GROUP BY", at: having.location)
        }
        return Select(
            source: source, alias: select.from.referenceName, timestampBy: select.from.timestampBy, substreamKeys: select.from.timestampOver,
            filter: select.filter, items: items, grouping: grouping, analytics: analytics, joins: joins, applies: applies,
            streamJoin: streamJoin)
    }

    /// The time bounds of a stream join from an AND-ed `DATEDIFF(unit, a, b) BETWEEN low AND high` whose
    /// a and b are the two inputs (either order), as milliseconds of `right - left`.
    private static func timeBounds(in condition: SQLExpression, left: String, right: String) throws(SQLError) -> (lower: Int64, upper: Int64)? {
        switch condition.kind {
        case .binary(.and, let a, let b):
            if let bounds = try timeBounds(in: a, left: left, right: right) { return bounds }
            return try timeBounds(in: b, left: left, right: right)
        case .between(let value, let low, let high, false):
            guard case .call(let call) = value.kind, call.name.uppercased() == "DATEDIFF", call.arguments.count == 3,
                case .path(let unit) = call.arguments[0].kind, unit.count == 1,
                case .path(let first) = call.arguments[1].kind, first.count == 1, case .path(let second) = call.arguments[2].kind, second.count == 1
            else { return nil }
            let (x, y) = (first[0].lowercased(), second[0].lowercased())
            guard Set([x, y]) == Set([left.lowercased(), right.lowercased()]), x != y else { return nil }
            guard let step = SQLDateTime.milliseconds(per: unit[0]) else {
                throw SQLError("unknown time unit \(unit[0]) (day, hour, minute, second, millisecond)", at: call.arguments[0].location)
            }
            guard case .integer(let lo) = low.kind, case .integer(let hi) = high.kind, lo <= hi,
                abs(lo) <= 7 * 86_400_000 / step, abs(hi) <= 7 * 86_400_000 / step
            else { throw SQLError("DATEDIFF … BETWEEN needs whole-number bounds, low ≤ high, within 7 days", at: low.location) }
            // DATEDIFF counts unit boundaries: a difference of n units means a gap within (n - 1, n + 1) units.
            let (l, h) = x == left.lowercased() ? (lo, hi) : (-hi, -lo)
            return (l * step - (step - 1), h * step + (step - 1))
        default:
            return nil
        }
    }

    /// An AND-ed `a = b` of `condition` where one side reads only the table (`alias.…`) and the other
    /// does not read it at all.
    private static func equality(in condition: SQLExpression, tableAlias alias: String) -> (stream: SQLExpression, table: SQLExpression)? {
        func readsTable(_ e: SQLExpression) -> (table: Bool, other: Bool) {
            var table = false, other = false
            e.visit { node in
                if case .path(let parts) = node.kind {
                    if parts[0].lowercased() == alias.lowercased() { table = true } else { other = true }
                }
            }
            return (table, other)
        }
        switch condition.kind {
        case .binary(.and, let a, let b):
            return equality(in: a, tableAlias: alias) ?? equality(in: b, tableAlias: alias)
        case .binary(.equal, let a, let b):
            let (ra, rb) = (readsTable(a), readsTable(b))
            if ra.table && !ra.other && !rb.table { return (b, a) }
            if rb.table && !rb.other && !ra.table { return (a, b) }
            return nil
        default:
            return nil
        }
    }

    /// An unaliased column's name: a path's last part, a call's function name, else `column{n}`.
    private static func defaultName(_ expression: SQLExpression, index: Int) -> String {
        switch expression.kind {
        case .path(let parts): return parts.last!
        case .call(let call): return call.name.split(separator: ".").last.map { String($0).lowercased() } ?? "column\(index + 1)"
        default: return "column\(index + 1)"
        }
    }

    private static func checkScalar(_ call: SQLCall, at location: SQLLocation) throws(SQLError) {
        let name = call.name.uppercased()
        if SQLFunctions.scalarNames.contains(name) { return }
        if ["TUMBLINGWINDOW", "HOPPINGWINDOW", "SLIDINGWINDOW", "SESSIONWINDOW", "SNAPSHOTWINDOW"].contains(name) {
            throw SQLError("\(call.name) belongs in GROUP BY", at: location)
        }
        if ["DURATION", "HOP", "OFFSET"].contains(name) { throw SQLError("\(call.name)(…) belongs inside a window", at: location) }
        if SQLFunctions.computedByRuntime.contains(name) {
            throw SQLError("\(call.name) is not supported by this version of the runtime yet", at: location)
        }
        throw SQLError("unknown function \(call.name)", at: location)
    }

    /// The analytic function of `call`, or nil when it is not one.
    private static func analytic(_ call: SQLCall, _ node: SQLExpression) throws(SQLError) -> Analytic? {
        let name = call.name.uppercased()
        guard ["LAG", "LAST", "ISFIRST", "ANOMALYDETECTION_SPIKEANDDIP", "ANOMALYDETECTION_CHANGEPOINT"].contains(name) else { return nil }
        guard let over = call.over else { throw SQLError("\(call.name) needs OVER (PARTITION BY … LIMIT DURATION(…))", at: node.location) }
        let limit = try over.limitDuration.map { (d) throws(SQLError) in
            try SQLWindow.duration(unit: SQLExpression(.path([d.unit]), at: node.location), amount: d.amount, in: "LIMIT DURATION")
        }
        var analytic = Analytic(expression: node, kind: .last, value: call.arguments.first, partitionBy: over.partitionBy, limit: limit, when: over.when)
        switch name {
        case "LAG":
            guard (1...3).contains(call.arguments.count) else { throw SQLError("LAG(value [, offset [, default]])", at: node.location) }
            var offset = 1
            if call.arguments.count > 1 {
                guard case .integer(let n) = call.arguments[1].kind, (1...1000).contains(n) else {
                    throw SQLError("LAG's offset is a whole number 1…1000", at: call.arguments[1].location)
                }
                offset = Int(n)
            }
            analytic.kind = .lag(offset: offset, defaultValue: call.arguments.count > 2 ? call.arguments[2] : nil)
            guard limit != nil else { throw SQLError("LAG needs LIMIT DURATION(…) in its OVER clause", at: node.location) }
        case "LAST":
            guard call.arguments.count == 1 else { throw SQLError("LAST(value)", at: node.location) }
            guard limit != nil else { throw SQLError("LAST needs LIMIT DURATION(…) in its OVER clause", at: node.location) }
        case "ANOMALYDETECTION_SPIKEANDDIP", "ANOMALYDETECTION_CHANGEPOINT":
            let spike = name == "ANOMALYDETECTION_SPIKEANDDIP"
            let shape = spike ? "AnomalyDetection_SpikeAndDip(value, confidence 1…100, historySize, 'spikes'|'dips'|'spikesanddips')"
                : "AnomalyDetection_ChangePoint(value, confidence 1…100, historySize)"
            guard call.arguments.count == (spike ? 4 : 3), case .float(let confidence) = call.arguments[1].kind.numericLiteral,
                (1...100).contains(confidence), case .integer(let history) = call.arguments[2].kind, (8...10_000).contains(history)
            else { throw SQLError(shape + "; historySize 8…10000", at: node.location) }
            guard limit != nil else { throw SQLError("\(call.name) needs LIMIT DURATION(…) in its OVER clause", at: node.location) }
            if spike {
                guard case .string(let text) = call.arguments[3].kind, let mode = SQLAnomaly.Mode(rawValue: text.lowercased()) else {
                    throw SQLError("the mode is 'spikes', 'dips' or 'spikesanddips'", at: call.arguments[3].location)
                }
                analytic.kind = .spikeAndDip(confidence: confidence, historySize: Int(history), mode: mode)
            } else {
                analytic.kind = .changePoint(confidence: confidence, historySize: Int(history))
            }
        default:
            guard call.arguments.count == 2 else { throw SQLError("ISFIRST(unit, size)", at: node.location) }
            analytic.kind = .isFirst(size: try SQLWindow.duration(unit: call.arguments[0], amount: call.arguments[1], in: "ISFIRST"))
            analytic.value = nil
            guard case .isFirst(let size) = analytic.kind, size > 0 else { throw SQLError("ISFIRST needs a size greater than 0", at: node.location) }
        }
        for argument in call.arguments.prefix(name == "ISFIRST" ? 0 : 1) {
            for (inner, innerNode) in argument.calls { try checkScalar(inner, at: innerNode.location) }
        }
        return analytic
    }

    /// A grouped query's expression uses only group keys, aggregates, constants and `System.Timestamp()`.
    private static func checkGrouped(_ expression: SQLExpression, keys: [SQLExpression]) throws(SQLError) {
        if keys.contains(where: { $0.text == expression.text }) { return }
        switch expression.kind {
        case .path(let parts):
            throw SQLError("\(parts.joined(separator: ".")) is neither a GROUP BY key nor inside an aggregate", at: expression.location)
        case .call(let call):
            let name = call.name.uppercased()
            if name == "SYSTEM.TIMESTAMP" || SQLFunctions.computedByRuntime.contains(name) { return }
            for argument in call.arguments { try checkGrouped(argument, keys: keys) }
        case .null, .boolean, .integer, .float, .string, .star:
            return
        case .unary(_, let e), .isNull(let e, _), .cast(let e, _, _):
            try checkGrouped(e, keys: keys)
        case .binary(_, let a, let b), .like(let a, let b, _):
            try checkGrouped(a, keys: keys)
            try checkGrouped(b, keys: keys)
        case .between(let e, let low, let high, _):
            for part in [e, low, high] { try checkGrouped(part, keys: keys) }
        case .inList(let e, let items, _):
            for part in [e] + items { try checkGrouped(part, keys: keys) }
        case .caseWhen(let operand, let branches, let otherwise):
            for part in [operand, otherwise].compactMap({ $0 }) + branches.flatMap({ [$0.when, $0.then] }) { try checkGrouped(part, keys: keys) }
        }
    }
}

extension SQLPlan {
    /// How far back in event time (ms) the job's state can reach: the longest window, session, analytic
    /// history (`LIMIT DURATION`, `ISFIRST` period) or stream-join bound. A job restarted by replaying
    /// the log from this long before where it stopped rebuilds every open window and history. Analytic
    /// functions without `LIMIT DURATION` keep history by count only; they count as `unboundedHistory`.
    public func stateHorizon(unboundedHistory: Int64 = 3_600_000) -> Int64 {
        var horizon: Int64 = 0
        for statement in statements {
            for select in statement.selects {
                if let grouping = select.grouping {
                    switch grouping.window {
                    case .tumbling(let size, let offset): horizon = max(horizon, size + offset)
                    case .hopping(let size, _, let offset): horizon = max(horizon, size + offset)
                    case .sliding(let size): horizon = max(horizon, size)
                    case .session(_, let maximum): horizon = max(horizon, maximum)
                    case .snapshot: break
                    }
                }
                for analytic in select.analytics {
                    switch analytic.kind {
                    case .isFirst(let size): horizon = max(horizon, size)
                    default: horizon = max(horizon, analytic.limit ?? unboundedHistory)
                    }
                }
                if let join = select.streamJoin { horizon = max(horizon, Swift.max(abs(join.lower), abs(join.upper))) }
            }
        }
        return horizon
    }
}
