import DequeModule

/// The two sides of a stream join waiting for partners: entries by id, in time order for expiry, and by
/// the equality key for probing.
struct StreamJoinBuffers: Sendable {
    struct Entry: Sendable {
        var time: Int64
        var inputs: [(name: String, value: SQLValue)]
        var computed: [SQLExpression: SQLValue]
        var key: SQLValue
        var matched = false
    }

    struct Side: Sendable {
        var entries: [Int: Entry] = [:]
        /// (time, id), ascending.
        var byTime: Deque<(time: Int64, id: Int)> = []
        var byKey: [SQLValue: [Int]] = [:]

        mutating func insert(_ entry: Entry, id: Int) {
            entries[id] = entry
            let index = byTime.lastIndex { $0.time <= entry.time }.map { $0 + 1 } ?? 0
            byTime.insert((entry.time, id), at: index)
            byKey[entry.key, default: []].append(id)
        }

        mutating func remove(_ id: Int) -> Entry? {
            guard let entry = entries.removeValue(forKey: id) else { return nil }
            if var ids = byKey[entry.key], let i = ids.firstIndex(of: id) {
                ids.remove(at: i)
                byKey[entry.key] = ids.isEmpty ? nil : ids
            }
            return entry
        }

        /// Ids of entries with `key` whose time is in `range`, in arrival order.
        func candidates(_ key: SQLValue, _ range: ClosedRange<Int64>) -> [Int] {
            (byKey[key] ?? []).filter { entries[$0].map { range.contains($0.time) } ?? false }
        }
    }

    var left = Side()
    var right = Side()
    var nextID = 0
}

extension SQLJob.SelectState {
    /// The equality key of one side (numbers as floats, so `1` meets `1.0`); NULL when there is no
    /// equality term (one bucket).
    private func joinKey(_ expression: SQLExpression?, _ row: SQLRow) throws(SQLError) -> SQLValue {
        guard let expression else { return .null }
        let value = try SQLEvaluator.evaluate(expression, in: row)
        if case .int(let n) = value { return .float(Double(n)) }
        return value
    }

    private func joined(left: StreamJoinBuffers.Entry, right: StreamJoinBuffers.Entry?, _ join: SQLPlan.StreamJoin) -> SQLRow {
        var row = SQLRow(inputs: left.inputs + (right?.inputs ?? [(join.alias, .null)]), computed: left.computed)
        row.times[select.alias] = left.time
        if let right { row.times[join.alias] = right.time }
        return row
    }

    /// A left event meets the buffered right events within the bounds, then waits for later ones.
    func joinLeft(_ row: SQLRow, time: Int64, _ join: SQLPlan.StreamJoin, job: inout SQLJob, produced: inout [SQLJob.Item]) throws(SQLError) {
        var entry = StreamJoinBuffers.Entry(time: time, inputs: row.inputs, computed: row.computed, key: try joinKey(join.equality?.stream, row))
        if entry.key.isNull && join.equality != nil {
            // A NULL key matches nothing; an outer join still reports the event, once its bounds pass.
            guard join.outer else { return }
        } else {
            for id in streamBuffers.right.candidates(entry.key, (time + join.lower)...(time + join.upper)) {
                guard let partner = streamBuffers.right.entries[id] else { continue }
                var pair = joined(left: entry, right: partner, join)
                pair.timestamp = max(time, partner.time)
                guard try SQLEvaluator.holds(join.condition, in: pair) else { continue }
                entry.matched = true
                try finish(pair, record: row.inputs[0].value, time: pair.timestamp!, substream: [], job: &job, produced: &produced)
            }
        }
        guard streamBuffers.left.entries.count < job.configuration.maximumGroups else { job.countOverLimit(); return }
        streamBuffers.nextID += 1
        streamBuffers.left.insert(entry, id: streamBuffers.nextID)
    }

    /// A right event meets the buffered left events within the bounds, then waits for later ones.
    func joinRight(_ row: SQLRow, time: Int64, _ join: SQLPlan.StreamJoin, job: inout SQLJob, produced: inout [SQLJob.Item]) throws(SQLError) {
        let entry = StreamJoinBuffers.Entry(time: time, inputs: row.inputs, computed: [:], key: try joinKey(join.equality?.table, row))
        if entry.key.isNull && join.equality != nil { return }
        for id in streamBuffers.left.candidates(entry.key, (time - join.upper)...(time - join.lower)) {
            guard let partner = streamBuffers.left.entries[id] else { continue }
            var pair = joined(left: partner, right: entry, join)
            pair.timestamp = max(time, partner.time)
            guard try SQLEvaluator.holds(join.condition, in: pair) else { continue }
            streamBuffers.left.entries[id]?.matched = true
            try finish(pair, record: partner.inputs[0].value, time: pair.timestamp!, substream: [], job: &job, produced: &produced)
        }
        guard streamBuffers.right.entries.count < job.configuration.maximumGroups else { job.countOverLimit(); return }
        streamBuffers.nextID += 1
        streamBuffers.right.insert(entry, id: streamBuffers.nextID)
    }

    /// Left events whose bounds the watermark passed can meet no more partners: an outer join reports the
    /// unmatched ones (with the right input NULL, at `left time + upper bound`). Right events no future
    /// left event can reach are forgotten.
    func expireJoin(before watermark: Int64, _ join: SQLPlan.StreamJoin, job: inout SQLJob, produced: inout [SQLJob.Item]) {
        while let oldest = streamBuffers.left.byTime.first, oldest.time + join.upper < watermark {
            streamBuffers.left.byTime.removeFirst()
            guard let entry = streamBuffers.left.remove(oldest.id), join.outer, !entry.matched else { continue }
            var row = joined(left: entry, right: nil, join)
            row.timestamp = entry.time + join.upper
            do throws(SQLError) {
                try finish(row, record: entry.inputs[0].value, time: entry.time + join.upper, substream: [], job: &job, produced: &produced)
            } catch {
                job.fail(error)
            }
        }
        while let oldest = streamBuffers.right.byTime.first, oldest.time < watermark + join.lower {
            streamBuffers.right.byTime.removeFirst()
            _ = streamBuffers.right.remove(oldest.id)
        }
    }

    /// At the end of the input every left event's bounds have passed.
    func flushJoin(job: inout SQLJob) -> [SQLJob.Item] {
        guard let join = select.streamJoin else { return [] }
        var produced: [SQLJob.Item] = []
        expireJoin(before: Int64.max / 4, join, job: &job, produced: &produced)
        return produced
    }
}
