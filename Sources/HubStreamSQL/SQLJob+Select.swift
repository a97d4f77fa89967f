import DequeModule

extension SQLJob {
    /// The running state of one SELECT: watermarks, analytic histories and open windows.
    ///
    /// A class, so an event reaches it without moving its many tables in and out of the job (that move
    /// was a tenth of the time per event); `SQLJob` keeps value semantics by copying a state before it
    /// mutates one it shares (`copy()`, copy-on-write).
    final class SelectState: @unchecked Sendable {
        let select: SQLPlan.Select
        /// Substream key (`TIMESTAMP BY … OVER`; empty without) → latest event time.
        var latest: [[SQLValue]: Int64] = [:]
        /// Substream key → the order it was first seen in, so ties are broken the same way every run
        /// (dictionary order varies between processes).
        var firstSeen: [[SQLValue]: Int] = [:]
        /// Per analytic function (same order as `select.analytics`): partition key → history.
        var histories: [[[SQLValue]: Deque<(time: Int64, value: SQLValue)>]]
        /// Per change-point function: partition key → its martingale.
        var changePoints: [Int: [[SQLValue]: SQLAnomaly.ChangePoint]] = [:]
        /// Fixed windows (tumbling, hopping, snapshot): substream → window end → groups.
        var fixed: [[SQLValue]: [Int64: GroupTable]] = [:]
        /// Sliding windows: (substream + group key) → retained events and the ends still to emit.
        var sliding: [[SQLValue]: SlidingGroup] = [:]
        var slidingOrder: [[SQLValue]] = []
        /// Session windows: (substream + group key) → the open session.
        var sessions: [[SQLValue]: Session] = [:]
        var sessionOrder: [[SQLValue]] = []
        var openGroups = 0
        /// No fixed window ends before this (a lower bound over every substream; exact while there is one
        /// substream), so most events of a query without OVER close nothing without a look-up.
        var earliestOpenEnd: Int64 = .max
        /// Reused buffers for an event's group key and aggregate arguments (no allocation per event).
        var scratchKey: [SQLValue] = []
        var scratchArguments: [SQLValue] = []
        /// The table the last event went to, with its substream and window end.
        var current: (substream: [SQLValue], end: Int64, table: GroupTable)?
        /// The buffers of a stream join.
        var streamBuffers = StreamJoinBuffers()
        /// Per JOIN (by index): the equality index of its table and the version it was built from.
        var indexes: [Int: (version: UInt64, count: Int, keys: [SQLValue: [Int]])] = [:]

        init(select: SQLPlan.Select) {
            self.select = select
            self.histories = Array(repeating: [:], count: select.analytics.count)
        }

        /// An independent state with the same contents (the tables are values, copied on write).
        func copy() -> SelectState {
            let c = SelectState(select: select)
            c.latest = latest
            c.firstSeen = firstSeen
            c.histories = histories
            c.changePoints = changePoints
            c.fixed = fixed.mapValues { $0.mapValues { $0.copy() } }
            c.sliding = sliding
            c.slidingOrder = slidingOrder
            c.sessions = sessions
            c.sessionOrder = sessionOrder
            c.openGroups = openGroups
            c.earliestOpenEnd = earliestOpenEnd
            c.streamBuffers = streamBuffers
            c.indexes = indexes
            return c
        }

        struct Group {
            /// The inputs of the group's first row (the event and any joined reference rows), for the
            /// group keys in the output.
            var first: [(name: String, value: SQLValue)]
            var accumulators: [SQLAccumulator]
        }

        /// One window's groups. A class, so the table events keep landing in (the current window) is
        /// held between events instead of looked up twice per event.
        final class GroupTable {
            var order: [[SQLValue]] = []
            var groups: [[SQLValue]: Group] = [:]

            func copy() -> GroupTable {
                let c = GroupTable()
                c.order = order
                c.groups = groups
                return c
            }
        }

        struct SlidingGroup {
            var substream: [SQLValue]
            var entries: Deque<(time: Int64, inputs: [(name: String, value: SQLValue)], arguments: [SQLValue])> = []
            var ends: Set<Int64> = []
        }

        struct Session {
            var substream: [SQLValue]
            var start: Int64
            var last: Int64
            var group: Group
        }

        // MARK: accepting an event

        func accept(_ item: SQLJob.Item, job: inout SQLJob) -> [SQLJob.Item] {
            let tolerance = item.fromEvents ? job.configuration.outOfOrderTolerance : 0
            guard let (time, substream, latest) = admit(item, alias: select.alias, timestampBy: select.timestampBy, tolerance: tolerance, job: &job) else {
                return []
            }
            var produced: [SQLJob.Item] = []
            left(item, time: time, substream: substream, job: &job, produced: &produced)
            advance(substream, latest: latest, tolerance: tolerance, job: &job, produced: &produced)
            return produced
        }

        /// The right-hand stream of a stream join receives an event.
        func acceptRight(_ item: SQLJob.Item, job: inout SQLJob) -> [SQLJob.Item] {
            guard let streamJoin = select.streamJoin else { return [] }
            let tolerance = item.fromEvents ? job.configuration.outOfOrderTolerance : 0
            guard let (time, _, latest) = admit(item, alias: streamJoin.alias, timestampBy: streamJoin.timestampBy, tolerance: tolerance, job: &job) else {
                return []
            }
            var produced: [SQLJob.Item] = []
            right(item, time: time, streamJoin, job: &job, produced: &produced)
            advance([], latest: latest, tolerance: tolerance, job: &job, produced: &produced)
            return produced
        }

        /// A self-join (both sides read this input): the event is admitted once when both sides take its
        /// time the same way (so lateness is counted once), then offered to the right side, then the left.
        func acceptBoth(_ item: SQLJob.Item, job: inout SQLJob) -> [SQLJob.Item] {
            guard let streamJoin = select.streamJoin, streamJoin.timestampBy?.text == select.timestampBy?.text else {
                return acceptRight(item, job: &job) + accept(item, job: &job)
            }
            let tolerance = item.fromEvents ? job.configuration.outOfOrderTolerance : 0
            guard let (time, substream, latest) = admit(item, alias: select.alias, timestampBy: select.timestampBy, tolerance: tolerance, job: &job) else {
                return []
            }
            var produced: [SQLJob.Item] = []
            right(item, time: time, streamJoin, job: &job, produced: &produced)
            left(item, time: time, substream: substream, job: &job, produced: &produced)
            advance(substream, latest: latest, tolerance: tolerance, job: &job, produced: &produced)
            return produced
        }

        private func left(_ item: SQLJob.Item, time: Int64, substream: [SQLValue], job: inout SQLJob, produced: inout [SQLJob.Item]) {
            var row = SQLRow(select.alias, item.record, timestamp: time)
            do throws(SQLError) {
                if !select.analytics.isEmpty { row.computed = try analytics(row, time: time, job: &job) }
                if let streamJoin = select.streamJoin {
                    try joinLeft(row, time: time, streamJoin, job: &job, produced: &produced)
                } else {
                    try finish(row, record: item.record, time: time, substream: substream, job: &job, produced: &produced)
                }
            } catch {
                job.fail(error)
            }
        }

        private func right(_ item: SQLJob.Item, time: Int64, _ streamJoin: SQLPlan.StreamJoin, job: inout SQLJob, produced: inout [SQLJob.Item]) {
            do throws(SQLError) {
                try joinRight(SQLRow(streamJoin.alias, item.record, timestamp: time), time: time, streamJoin, job: &job, produced: &produced)
            } catch {
                job.fail(error)
            }
        }

        /// The event's time (TIMESTAMP BY, else its arrival), its substream and the substream's latest time
        /// after it (the watermark's base), after the lateness policy; nil when it cannot be evaluated or is
        /// dropped as late (both counted). Advances the watermark.
        private func admit(
            _ item: SQLJob.Item, alias: String, timestampBy: SQLExpression?, tolerance: Int64, job: inout SQLJob
        ) -> (Int64, [SQLValue], Int64)? {
            var time = item.time
            var substream: [SQLValue] = []
            if timestampBy != nil || !select.substreamKeys.isEmpty {
                let row = SQLRow(alias, item.record, timestamp: time)
                do throws(SQLError) {
                    if let timestampBy { time = try Self.eventTime(timestampBy, in: row) }
                    substream = try select.substreamKeys.map { (key) throws(SQLError) in try SQLEvaluator.evaluate(key, in: row) }
                } catch {
                    job.fail(error)
                    return nil
                }
            }
            // One hash look-up of the substream for the lateness check and the watermark update.
            if let index = latest.index(forKey: substream) {
                let current = latest.values[index]
                if time < current - tolerance {
                    if job.configuration.latePolicy == .drop {
                        job.countLate(dropped: true)
                        return nil
                    }
                    job.countLate(dropped: false)
                    time = current - tolerance
                }
                if time > current { latest.values[index] = time }
                return (time, substream, max(current, time))
            }
            firstSeen[substream] = firstSeen.count
            latest[substream] = time
            return (time, substream, time)
        }

        /// After the watermark moved: windows that ended, and stream-join events that can no longer match.
        private func advance(_ substream: [SQLValue], latest: Int64, tolerance: Int64, job: inout SQLJob, produced: inout [SQLJob.Item]) {
            if let streamJoin = select.streamJoin { expireJoin(before: latest - tolerance, streamJoin, job: &job, produced: &produced) }
            if let grouping = select.grouping {
                close(substream, before: latest - tolerance, grouping: grouping, job: &job, into: &produced)
            }
        }

        /// The rest of the pipeline for a row (an event, or a joined pair): reference joins and APPLY,
        /// WHERE, then the window or the projection.
        func finish(
            _ row: SQLRow, record: SQLValue, time: Int64, substream: [SQLValue], job: inout SQLJob, produced: inout [SQLJob.Item]
        ) throws(SQLError) {
            if select.joins.isEmpty && select.applies.isEmpty {
                // No reference join or APPLY: the row itself, without an array of one.
                if let filter = select.filter, !(try SQLEvaluator.holds(filter, in: row)) { return }
                if let grouping = select.grouping {
                    try add(row, record: record, time: time, substream: substream, grouping: grouping, job: &job, produced: &produced)
                } else {
                    produced.append(SQLJob.Item(record: try project(row), time: time, fromEvents: false))
                }
                return
            }
            for joined in try join(row, job.configuration) where try select.filter.map({ (f) throws(SQLError) in try SQLEvaluator.holds(f, in: joined) }) ?? true {
                if let grouping = select.grouping {
                    try add(joined, record: record, time: time, substream: substream, grouping: grouping, job: &job, produced: &produced)
                } else {
                    produced.append(SQLJob.Item(record: try project(joined), time: time, fromEvents: false))
                }
            }
        }

        /// `TIMESTAMP BY`'s value as milliseconds: a datetime, or text in a date format.
        static func eventTime(_ expression: SQLExpression, in row: SQLRow) throws(SQLError) -> Int64 {
            switch try SQLEvaluator.evaluate(expression, in: row) {
            case .datetime(let ms): return ms
            case .string(let text):
                guard let ms = SQLDateTime.parse(text) else { throw SQLError("TIMESTAMP BY: '\(text.prefix(40))' is not a datetime", at: expression.location) }
                return ms
            case let other:
                throw SQLError("TIMESTAMP BY needs a datetime, got \(other.typeName)", at: expression.location)
            }
        }

        /// `SELECT` items over a row: columns by name; `*` copies the input's fields.
        func project(_ row: SQLRow) throws(SQLError) -> SQLValue {
            var record = SQLRecord()
            for item in select.items {
                switch item {
                case .all(let qualifier):
                    // `*` merges every input's fields (the event's first); `alias.*` copies one input.
                    for input in row.inputs where qualifier == nil || input.name.lowercased() == qualifier!.lowercased() {
                        if case .record(let fields) = input.value {
                            for member in fields.members where qualifier != nil || record[member.name] == nil { record.set(member.name, member.value) }
                        }
                    }
                case .column(let name, let expression):
                    record.set(name, try SQLEvaluator.evaluate(expression, in: row))
                }
            }
            return .record(record)
        }

        // MARK: reference joins

        /// The row extended with each JOIN's matching reference rows: one row per match; with LEFT OUTER
        /// JOIN a row with the table's input NULL when nothing matches.
        func join(_ row: SQLRow, _ configuration: SQLJob.Configuration) throws(SQLError) -> [SQLRow] {
            guard !select.joins.isEmpty || !select.applies.isEmpty else { return [row] }
            var rows = [row]
            for (index, join) in select.joins.enumerated() {
                let table = configuration.reference(join.table) ?? SQLReferenceTable(rows: [])
                var next: [SQLRow] = []
                for current in rows {
                    var matched = false
                    for candidate in try candidates(index, join, table, current) {
                        var extended = current
                        extended.inputs.append((join.alias, candidate))
                        if try SQLEvaluator.holds(join.condition, in: extended) {
                            next.append(extended)
                            matched = true
                        }
                    }
                    if !matched && join.outer {
                        var extended = current
                        extended.inputs.append((join.alias, .null))
                        next.append(extended)
                    }
                }
                rows = next
            }
            for apply in select.applies {
                var next: [SQLRow] = []
                for current in rows {
                    let elements = Self.expand(try SQLEvaluator.evaluate(apply.argument, in: current), properties: apply.properties)
                    if elements.isEmpty && apply.outer { next.append(extend(current, apply.alias, .null)) }
                    for element in elements { next.append(extend(current, apply.alias, element)) }
                    guard next.count <= configuration.maximumHistory else {
                        throw SQLError("APPLY expanded one event into more than \(configuration.maximumHistory) rows", at: apply.argument.location)
                    }
                }
                rows = next
            }
            return rows
        }

        private func extend(_ row: SQLRow, _ alias: String, _ value: SQLValue) -> SQLRow {
            var extended = row
            extended.inputs.append((alias, value))
            return extended
        }

        /// `GetArrayElements` / `GetRecordProperties` rows of a value (none when it is not an array /
        /// record).
        static func expand(_ value: SQLValue, properties: Bool) -> [SQLValue] {
            switch (value, properties) {
            case (.array(let items), false):
                return items.enumerated().map { .record(SQLRecord([("ArrayIndex", .int(Int64($0.offset))), ("ArrayValue", $0.element)])) }
            case (.record(let record), true):
                return record.members.map { .record(SQLRecord([("PropertyName", .string($0.name)), ("PropertyValue", $0.value)])) }
            default:
                return []
            }
        }

        /// The table rows that may match: through the equality's index when there is one.
        private func candidates(_ index: Int, _ join: SQLPlan.Join, _ table: SQLReferenceTable, _ row: SQLRow) throws(SQLError) -> [SQLValue] {
            guard let equality = join.equality else { return table.rows }
            if indexes[index]?.version != table.version || indexes[index]?.count != table.rows.count {
                var keys: [SQLValue: [Int]] = [:]
                for (i, candidate) in table.rows.enumerated() {
                    let key = try? SQLEvaluator.evaluate(equality.table, in: SQLRow(inputs: [(join.alias, candidate)]))
                    if let key, !key.isNull { keys[Self.indexKey(key), default: []].append(i) }
                }
                indexes[index] = (table.version, table.rows.count, keys)
            }
            let key = try SQLEvaluator.evaluate(equality.stream, in: row)
            guard !key.isNull else { return [] }
            return indexes[index]!.keys[Self.indexKey(key)]?.map { table.rows[$0] } ?? []
        }

        /// Numbers as floats, so `1` finds `1.0` as `=` does.
        private static func indexKey(_ value: SQLValue) -> SQLValue {
            if case .int(let n) = value { return .float(Double(n)) }
            return value
        }

        // MARK: analytic functions

        /// LAG, LAST and ISFIRST for the current event; the event then joins each history (when its
        /// WHEN holds). Histories forget entries past LIMIT DURATION and beyond `maximumHistory`.
        func analytics(_ row: SQLRow, time: Int64, job: inout SQLJob) throws(SQLError) -> [SQLExpression: SQLValue] {
            var computed: [SQLExpression: SQLValue] = [:]
            for (index, analytic) in select.analytics.enumerated() {
                let partition = try analytic.partitionBy.map { (key) throws(SQLError) in try SQLEvaluator.evaluate(key, in: row) }
                let counts = try analytic.when.map { (w) throws(SQLError) in try SQLEvaluator.holds(w, in: row) } ?? true
                var history = histories[index][partition] ?? []
                if let limit = analytic.limit {
                    while let oldest = history.first, oldest.time < time - limit { history.removeFirst() }
                }
                let value = try analytic.value.map { (v) throws(SQLError) in try SQLEvaluator.evaluate(v, in: row) } ?? .null
                switch analytic.kind {
                case .lag(let offset, let defaultValue):
                    if history.count >= offset {
                        computed[analytic.expression] = history[history.count - offset].value
                    } else {
                        computed[analytic.expression] = try defaultValue.map { (d) throws(SQLError) in try SQLEvaluator.evaluate(d, in: row) } ?? .null
                    }
                case .last:
                    computed[analytic.expression] = counts ? value : history.last?.value ?? .null
                case .isFirst(let size):
                    // First of its aligned window among the events that count.
                    let windowStart = time.flooredDivision(by: size) * size
                    let seenInWindow = history.last.map { $0.time >= windowStart } ?? false
                    computed[analytic.expression] = .int(counts && !seenInWindow ? 1 : 0)
                case .spikeAndDip(let confidence, _, let mode):
                    if let x = value.double, counts {
                        let result = SQLAnomaly.spikeAndDip(x, history: history.compactMap { $0.value.double }, confidence: confidence, mode: mode)
                        computed[analytic.expression] = SQLAnomaly.result(score: result.score, anomaly: result.anomaly)
                    } else {
                        computed[analytic.expression] = .null
                    }
                case .changePoint(let confidence, let historySize):
                    if let x = value.double, counts {
                        var detector = changePoints[index]?[partition] ?? SQLAnomaly.ChangePoint()
                        let result = detector.update(x, confidence: confidence, historySize: historySize)
                        changePoints[index, default: [:]][partition] = detector
                        computed[analytic.expression] = SQLAnomaly.result(score: result.score, anomaly: result.anomaly)
                    } else {
                        computed[analytic.expression] = .null
                    }
                }
                if counts {
                    history.append((time, value))
                    let cap: Int
                    switch analytic.kind {
                    case .lag(let offset, _): cap = min(job.configuration.maximumHistory, offset)
                    case .last, .isFirst: cap = 1
                    case .spikeAndDip(_, let historySize, _): cap = min(job.configuration.maximumHistory, historySize)
                    case .changePoint: cap = 0  // the detector keeps its own history
                    }
                    while history.count > cap { history.removeFirst() }
                }
                if history.isEmpty {
                    histories[index][partition] = nil
                } else {
                    if histories[index][partition] == nil, histories[index].count >= job.configuration.maximumGroups {
                        job.countOverLimit()
                        continue
                    }
                    histories[index][partition] = history
                }
            }
            return computed
        }

        // MARK: windows

        private static func accumulate(_ group: inout Group, _ arguments: [SQLValue], record: SQLValue, grouping: SQLPlan.Grouping) throws(SQLError) {
            for (i, aggregate) in grouping.aggregates.enumerated() {
                try group.accumulators[i].add(arguments[i], record: record, at: aggregate.expression.location)
            }
        }

        private static func newGroup(_ inputs: [(name: String, value: SQLValue)], _ grouping: SQLPlan.Grouping) -> Group {
            Group(first: inputs, accumulators: grouping.aggregates.map { SQLAccumulator($0.kind) })
        }

        /// The table of `substream`'s window ending at `end`, made when missing; the last one is kept at
        /// hand (events mostly land in the window the previous one did).
        private func table(_ substream: [SQLValue], _ end: Int64) -> GroupTable {
            if let current, current.end == end, current.substream == substream { return current.table }
            let table: GroupTable
            if let existing = fixed[substream]?[end] {
                table = existing
            } else {
                table = GroupTable()
                fixed[substream, default: [:]][end] = table
            }
            current = (substream, end, table)
            return table
        }

        enum Addition { case added, opened, refused }

        /// Adds an event to its group of `table` with one hash look-up when the group exists.
        private static func add(
            to table: GroupTable, key: [SQLValue], mayOpen: Bool, inputs: [(name: String, value: SQLValue)], arguments: [SQLValue],
            record: SQLValue, grouping: SQLPlan.Grouping
        ) throws(SQLError) -> Addition {
            if let index = table.groups.index(forKey: key) {
                try accumulate(&table.groups.values[index], arguments, record: record, grouping: grouping)
                return .added
            }
            guard mayOpen else { return .refused }
            var group = newGroup(inputs, grouping)
            try accumulate(&group, arguments, record: record, grouping: grouping)
            table.order.append(key)
            table.groups[key] = group
            return .opened
        }

        func add(
            _ row: SQLRow, record: SQLValue, time: Int64, substream: [SQLValue], grouping: SQLPlan.Grouping, job: inout SQLJob,
            produced: inout [SQLJob.Item]
        ) throws(SQLError) {
            var key = scratchKey
            scratchKey = []
            key.removeAll(keepingCapacity: true)
            for k in grouping.keys { key.append(try SQLEvaluator.evaluate(k, in: row)) }
            var arguments = scratchArguments
            scratchArguments = []
            arguments.removeAll(keepingCapacity: true)
            for aggregate in grouping.aggregates {
                arguments.append(try aggregate.argument.map { (a) throws(SQLError) in try SQLEvaluator.evaluate(a, in: row) } ?? .null)
            }
            defer {
                scratchKey = key
                scratchArguments = arguments
            }
            switch grouping.window {
            case .tumbling(let size, let offset):
                // One window: its end without building an array of ends.
                let end = SQLWindow.ceiling(time - offset, size) + offset
                earliestOpenEnd = min(earliestOpenEnd, end)
                switch try Self.add(
                    to: table(substream, end), key: key, mayOpen: openGroups < job.configuration.maximumGroups,
                    inputs: row.inputs, arguments: arguments, record: record, grouping: grouping)
                {
                case .added: break
                case .opened: openGroups += 1
                case .refused: job.countOverLimit()
                }
            case .hopping, .snapshot:
                let ends = grouping.window == .snapshot ? [time] : grouping.window.ends(containing: time)
                for end in ends {
                    earliestOpenEnd = min(earliestOpenEnd, end)
                    // Mutated in place through the dictionaries' subscripts: copying the table per event
                    // would cost as much as the table is large.
                    switch try Self.add(
                        to: table(substream, end), key: key, mayOpen: openGroups < job.configuration.maximumGroups,
                        inputs: row.inputs, arguments: arguments, record: record, grouping: grouping)
                    {
                    case .added: break
                    case .opened: openGroups += 1
                    case .refused: job.countOverLimit()
                    }
                }
            case .sliding(let size):
                let slot = substream + [.string("\u{0}")] + key
                if sliding[slot] == nil {
                    slidingOrder.append(slot)
                    sliding[slot] = SlidingGroup(substream: substream)
                }
                guard sliding[slot]!.entries.count < job.configuration.maximumHistory else { job.countOverLimit(); return }
                Self.enter(&sliding[slot]!, time: time, size: size, inputs: row.inputs, arguments: arguments)
            case .session(let timeout, let maximum):
                let slot = substream + [.string("\u{0}")] + key
                if var session = sessions[slot], time - session.last <= timeout, time - session.start <= maximum {
                    try Self.accumulate(&session.group, arguments, record: record, grouping: grouping)
                    session.last = max(session.last, time)
                    sessions[slot] = session
                    return
                }
                if let finished = sessions[slot] {
                    // The event starts a new session: the old one ended before it.
                    sessions[slot] = nil
                    openGroups -= 1
                    if let row = try output(finished.group, time: min(finished.last + timeout, finished.start + maximum), grouping: grouping) {
                        produced.append(row)
                    }
                } else {
                    sessionOrder.append(slot)
                }
                guard openGroups < job.configuration.maximumGroups else { job.countOverLimit(); return }
                openGroups += 1
                var group = Self.newGroup(row.inputs, grouping)
                try Self.accumulate(&group, arguments, record: record, grouping: grouping)
                sessions[slot] = Session(substream: substream, start: time, last: time, group: group)
            }
        }

        /// Adds an event to a sliding group, keeping entries in time order (an adjusted late event lands at
        /// the watermark, ≥ every emitted end).
        private static func enter(_ group: inout SlidingGroup, time: Int64, size: Int64, inputs: [(name: String, value: SQLValue)], arguments: [SQLValue]) {
            let index = group.entries.lastIndex { $0.time <= time }.map { $0 + 1 } ?? 0
            group.entries.insert((time, inputs, arguments), at: index)
            group.ends.insert(time)
            group.ends.insert(time + size)
        }

        /// A closed window's row, or nil when HAVING rejects it.
        func output(_ group: Group, time: Int64, grouping: SQLPlan.Grouping) throws(SQLError) -> SQLJob.Item? {
            var computed: [SQLExpression: SQLValue] = [:]
            for (i, aggregate) in grouping.aggregates.enumerated() { computed[aggregate.expression] = group.accumulators[i].result() }
            let row = SQLRow(inputs: group.first, timestamp: time, computed: computed)
            if let having = grouping.having, !(try SQLEvaluator.holds(having, in: row)) { return nil }
            return SQLJob.Item(record: try project(row), time: time, fromEvents: false)
        }

        /// Emits the windows of `substream` that end before `watermark`, in end order.
        func close(_ substream: [SQLValue], before watermark: Int64, grouping: SQLPlan.Grouping, job: inout SQLJob, into produced: inout [SQLJob.Item]) {
            switch grouping.window {
            case .tumbling, .hopping, .snapshot:
                // One timeline (no OVER): a lower bound on the open ends answers most events at once.
                if fixed.count <= 1, watermark <= earliestOpenEnd { return }
                guard let tables = fixed[substream], tables.keys.contains(where: { $0 < watermark }) else { return }
                current = nil
                for end in tables.keys.filter({ $0 < watermark }).sorted() {
                    let table = tables[end]!
                    fixed[substream]![end] = nil
                    emit(table, end: end, grouping: grouping, job: &job, into: &produced)
                }
                if fixed[substream]?.isEmpty == true { fixed[substream] = nil }
                if fixed.count <= 1 { earliestOpenEnd = fixed.values.first?.keys.min() ?? .max }
            case .sliding(let size):
                closeSliding(where: { $0.substream == substream }, before: watermark, size: size, grouping: grouping, job: &job, into: &produced)
            case .session(let timeout, let maximum):
                closeSessions(where: { $0.substream == substream }, before: watermark, timeout: timeout, maximum: maximum, grouping: grouping, job: &job, into: &produced)
            }
        }

        private func emit(_ table: GroupTable, end: Int64, grouping: SQLPlan.Grouping, job: inout SQLJob, into produced: inout [SQLJob.Item]) {
            for key in table.order {
                openGroups -= 1
                do throws(SQLError) {
                    if let row = try output(table.groups[key]!, time: end, grouping: grouping) { produced.append(row) }
                } catch {
                    job.fail(error)
                }
            }
        }

        private func closeSliding(
            where matches: (SlidingGroup) -> Bool, before watermark: Int64, size: Int64, grouping: SQLPlan.Grouping, job: inout SQLJob,
            into produced: inout [SQLJob.Item]
        ) {
            for slot in slidingOrder {
                guard var group = sliding[slot], matches(group) else { continue }
                for end in group.ends.filter({ $0 < watermark }).sorted() {
                    group.ends.remove(end)
                    let content = group.entries.filter { $0.time > end - size && $0.time <= end }
                    guard let first = content.first else { continue }
                    var window = Self.newGroup(first.inputs, grouping)
                    do throws(SQLError) {
                        for entry in content { try Self.accumulate(&window, entry.arguments, record: entry.inputs[0].value, grouping: grouping) }
                        if let row = try output(window, time: end, grouping: grouping) { produced.append(row) }
                    } catch {
                        job.fail(error)
                    }
                }
                // No future window (end ≥ watermark) reaches back past watermark - size.
                while let oldest = group.entries.first, oldest.time <= watermark - size { group.entries.removeFirst() }
                sliding[slot] = group.entries.isEmpty && group.ends.isEmpty ? nil : group
            }
            slidingOrder.removeAll { sliding[$0] == nil }
        }

        private func closeSessions(
            where matches: (Session) -> Bool, before watermark: Int64, timeout: Int64, maximum: Int64, grouping: SQLPlan.Grouping,
            job: inout SQLJob, into produced: inout [SQLJob.Item]
        ) {
            for slot in sessionOrder {
                guard let session = sessions[slot], matches(session) else { continue }
                let end = min(session.last + timeout, session.start + maximum)
                guard end < watermark else { continue }
                sessions[slot] = nil
                openGroups -= 1
                do throws(SQLError) {
                    if let row = try output(session.group, time: end, grouping: grouping) { produced.append(row) }
                } catch {
                    job.fail(error)
                }
            }
            sessionOrder.removeAll { sessions[$0] == nil }
        }

        /// Every open window (and stream-join event), at the end of the input.
        func closeAll(job: inout SQLJob) -> [SQLJob.Item] {
            var produced = flushJoin(job: &job)
            guard let grouping = select.grouping else { return produced }
            switch grouping.window {
            case .tumbling, .hopping, .snapshot:
                // All substreams' windows, in end order, then in the order the substreams appeared.
                var all: [(end: Int64, order: Int, substream: [SQLValue])] = []
                for (substream, tables) in fixed { for end in tables.keys { all.append((end, firstSeen[substream] ?? 0, substream)) } }
                for (end, _, substream) in all.sorted(by: { ($0.end, $0.order) < ($1.end, $1.order) }) {
                    let table = fixed[substream]![end]!
                    emit(table, end: end, grouping: grouping, job: &job, into: &produced)
                }
                fixed = [:]
                current = nil
                earliestOpenEnd = .max
            case .sliding(let size):
                closeSliding(where: { _ in true }, before: .max, size: size, grouping: grouping, job: &job, into: &produced)
            case .session(let timeout, let maximum):
                closeSessions(where: { _ in true }, before: .max, timeout: timeout, maximum: maximum, grouping: grouping, job: &job, into: &produced)
            }
            return produced
        }
    }
}
