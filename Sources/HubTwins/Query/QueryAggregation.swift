import HubCore

/// Computes the rows of an aggregating query (`COUNT()`, `SUM`, `AVG`, `MIN`, `MAX`, `GROUP BY`) as the
/// matching documents stream by, holding one accumulator per group rather than the documents.
///
/// Groups come out in the order their first document was seen (the scan's identity order), so the
/// same data always gives the same rows and pages.
struct QueryAggregation {
    private let items: [TwinQuery.SelectItem]
    private let groupBy: [QueryPath]
    private var groups: [String: Int] = [:]
    private var states: [(keys: [JSONValue?], accumulators: [Accumulator])] = []

    init(_ query: TwinQuery) {
        if case .items(let items) = query.selection { self.items = items } else { self.items = [] }
        groupBy = query.groupBy
        if groupBy.isEmpty { startGroup(keys: [], id: "") }  // one group, even over no documents
    }

    /// Adds a document that passed the `WHERE` clause.
    mutating func add(_ document: JSONValue) {
        let keys = groupBy.map { QueryEvaluator.resolve($0, in: document) }
        let id = keys.map { $0.map(JSONWriter.string) ?? "\u{0}undefined" }.joined(separator: "\u{0}")
        let index: Int
        if let existing = groups[id] {
            index = existing
        } else {
            index = states.count
            startGroup(keys: keys, id: id)
        }
        for (i, item) in items.enumerated() {
            guard case .aggregate(_, let argument) = item.expression else { continue }
            states[index].accumulators[i].add(argument.map { QueryEvaluator.evaluate($0, document) } ?? .bool(true))
        }
    }

    private mutating func startGroup(keys: [JSONValue?], id: String) {
        groups[id] = states.count
        states.append((keys, items.map { item in
            if case .aggregate(let kind, _) = item.expression { return Accumulator(kind) }
            return Accumulator(.count)
        }))
    }

    /// One row per group: select items in order, undefined values left out.
    var rows: [JSONValue] {
        states.map { state in
            var row = JSONObject()
            for (i, item) in items.enumerated() {
                let value: JSONValue?
                switch item.expression {
                case .aggregate: value = state.accumulators[i].result
                case .path(let path): value = groupBy.firstIndex(of: path).flatMap { state.keys[$0] }
                default: value = nil
                }
                if let value { row[item.name] = value }
            }
            return .object(row)
        }
    }
}

/// The running state of one aggregate over one group.
struct Accumulator {
    let kind: QueryAggregate
    private var count = 0
    private var sum = 0.0
    private var numbers = 0
    private var extreme: JSONValue?

    init(_ kind: QueryAggregate) { self.kind = kind }

    /// Adds one document's value (nil when undefined there).
    mutating func add(_ value: JSONValue?) {
        guard let value else { return }
        switch kind {
        case .count:
            count += 1
        case .sum, .avg:
            guard let x = QueryEvaluator.number(value) else { return }
            sum += x
            numbers += 1
        case .min, .max:
            guard value.isPrimitive else { return }
            guard let current = extreme else {
                extreme = value
                return
            }
            let less = Self.precedes(value, current)
            if (kind == .min && less) || (kind == .max && Self.precedes(current, value)) { extreme = value }
        }
    }

    /// COUNT: how many; SUM: the sum of the numbers (0 when none); AVG: their mean (undefined when
    /// none); MIN/MAX: the extreme primitive, ordered null < booleans < numbers < strings as in Cosmos DB.
    var result: JSONValue? {
        switch kind {
        case .count: .number(String(count))
        case .sum: QueryNumber.json(sum)
        case .avg: numbers == 0 ? nil : QueryNumber.json(sum / Double(numbers))
        case .min, .max: extreme
        }
    }

    private static func rank(_ value: JSONValue) -> Int {
        switch value {
        case .null: 0
        case .bool: 1
        case .number: 2
        case .string: 3
        case .array, .object: 4
        }
    }

    static func precedes(_ a: JSONValue, _ b: JSONValue) -> Bool {
        let (ra, rb) = (rank(a), rank(b))
        guard ra == rb else { return ra < rb }
        switch (a, b) {
        case (.bool(let x), .bool(let y)): return !x && y
        case (.number, .number): return (QueryEvaluator.number(a) ?? 0) < (QueryEvaluator.number(b) ?? 0)
        case (.string(let x), .string(let y)): return x.utf8.lexicographicallyPrecedes(y.utf8)
        default: return false
        }
    }
}
