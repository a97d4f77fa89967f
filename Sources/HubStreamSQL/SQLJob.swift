/// One input event: the message as a record and its arrival (enqueued) time.
public struct SQLEvent: Sendable {
    public var record: SQLValue
    /// Milliseconds since 1970.
    public var enqueuedTime: Int64

    public init(record: SQLValue, enqueuedTime: Int64) {
        self.record = record
        self.enqueuedTime = enqueuedTime
    }
}

/// Reference data: rows (records) and a version that changes whenever the rows do.
public struct SQLReferenceTable: Sendable {
    public var rows: [SQLValue]
    public var version: UInt64

    public init(rows: [SQLValue], version: UInt64 = 0) {
        self.rows = rows
        self.version = version
    }
}

/// One row a job writes: the `INTO` target, the columns, and the row's time (`System.Timestamp()`).
public struct SQLOutputRow: Sendable, Hashable {
    public var output: String
    public var record: SQLRecord
    public var time: Int64
}

/// Runs a planned job over events in arrival order, incrementally: `process` returns the rows an event
/// completes, `flush` the rest at the end of the input (for replays). Deterministic: the same events in
/// the same order give the same rows.
///
/// Event time: `TIMESTAMP BY` (else the enqueued time); the watermark is the latest event time seen
/// (per `OVER` key when given) minus `outOfOrderTolerance`. An event older than the watermark is late:
/// adjusted to the watermark or dropped, per `latePolicy`, and counted either way. Windows close, and
/// emit, once the watermark passes their end.
///
/// Bounded: at most `maximumGroups` open window groups and `maximumHistory` analytic entries per
/// partition; events beyond are dropped and counted (`Counters.overLimit`). An event that fails to
/// evaluate (a failed CAST, a type error) is dropped and counted with its error (`lastError`).
public struct SQLJob: Sendable {
    public struct Configuration: Sendable {
        /// Milliseconds an event may arrive behind the latest one without being late. Default 0.
        public var outOfOrderTolerance: Int64 = 0
        public var latePolicy: LatePolicy = .adjust
        public var maximumGroups = 100_000
        public var maximumHistory = 10_000
        /// The reference tables JOINs read (by lower-cased name), looked up for every event so a table
        /// that changes (the live twins) is seen at once; a table's `version` tells the job when to
        /// rebuild its index.
        public var reference: @Sendable (String) -> SQLReferenceTable? = { _ in nil }

        public init() {}
    }

    public enum LatePolicy: String, Sendable, CaseIterable {
        /// The event's time becomes the watermark (Stream Analytics' "adjust").
        case adjust
        case drop
    }

    public struct Counters: Sendable, Hashable {
        public var eventsIn = 0
        public var rowsOut = 0
        public var lateAdjusted = 0
        public var lateDropped = 0
        public var errors = 0
        public var overLimit = 0
    }

    public let plan: SQLPlan
    public let configuration: Configuration
    public private(set) var counters = Counters()
    /// The most recent evaluation error (its message and place), for job status.
    public private(set) var lastError: SQLError?
    /// One state per SELECT; copied before a mutation when another job value shares it.
    private var states: [[SelectState]]

    public init(plan: SQLPlan, configuration: Configuration = Configuration()) {
        self.plan = plan
        self.configuration = configuration
        self.states = plan.statements.map { $0.selects.map { SelectState(select: $0) } }
    }

    /// Feeds one event of the `events` input; returns the rows it completes, in order.
    public mutating func process(_ event: SQLEvent) -> [SQLOutputRow] {
        counters.eventsIn += 1
        var rows: [SQLOutputRow] = []
        deliver(Item(record: event.record, time: event.enqueuedTime, fromEvents: true), to: SQLPlan.eventsInput, into: &rows)
        counters.rowsOut += rows.count
        return rows
    }

    /// Closes every open window (end of a replayed input) and returns what they emit.
    public mutating func flush() -> [SQLOutputRow] {
        var rows: [SQLOutputRow] = []
        for s in plan.statements.indices {
            for k in states[s].indices {
                let state = uniqueState(s, k)
                let produced = state.closeAll(job: &self)
                for item in produced { emit(item, statement: s, into: &rows) }
            }
        }
        counters.rowsOut += rows.count
        return rows
    }

    /// An event on its way through the job: the record and its time.
    struct Item {
        var record: SQLValue
        var time: Int64
        var fromEvents: Bool
    }

    private mutating func deliver(_ item: Item, to input: String, into rows: inout [SQLOutputRow]) {
        for s in plan.statements.indices {
            for k in plan.statements[s].selects.indices {
                let select = plan.statements[s].selects[k]
                let isLeft = select.source == input, isRight = select.streamJoin?.source == input
                guard isLeft || isRight else { continue }
                let state = uniqueState(s, k)
                let produced = isLeft && isRight ? state.acceptBoth(item, job: &self) : isLeft ? state.accept(item, job: &self) : state.acceptRight(item, job: &self)
                for out in produced { emit(out, statement: s, into: &rows) }
            }
        }
    }

    private mutating func emit(_ item: Item, statement s: Int, into rows: inout [SQLOutputRow]) {
        let statement = plan.statements[s]
        if statement.isStep {
            deliver(Item(record: item.record, time: item.time, fromEvents: false), to: statement.name.lowercased(), into: &rows)
        } else if case .record(let record) = item.record {
            rows.append(SQLOutputRow(output: statement.name, record: record, time: item.time))
        }
    }

    /// The state of statement `s`'s select `k`, copied first if another job value shares it.
    private mutating func uniqueState(_ s: Int, _ k: Int) -> SelectState {
        if !isKnownUniquelyReferenced(&states[s][k]) { states[s][k] = states[s][k].copy() }
        return states[s][k]
    }

    mutating func fail(_ error: SQLError) {
        counters.errors += 1
        lastError = error
    }

    mutating func countLate(dropped: Bool) {
        if dropped { counters.lateDropped += 1 } else { counters.lateAdjusted += 1 }
    }

    mutating func countOverLimit() {
        counters.overLimit += 1
    }
}
