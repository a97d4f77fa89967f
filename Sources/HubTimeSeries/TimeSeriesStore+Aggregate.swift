/// Bucketed aggregates, from roll-ups where they are exact and raw points elsewhere.
extension TimeSeriesStore {
    /// Computes `query` (see `AggregateQuery`). Groups are listed in key order (series) or measure order.
    public func aggregate(_ query: AggregateQuery) throws(TimeSeriesError) -> AggregateResult {
        var query = query
        // No stored time is beyond ±2^62; clamping keeps the bucket arithmetic from overflowing.
        query.from = max(query.from, -Self.timeLimit)
        query.to = min(query.to, Self.timeLimit + 1)
        guard query.from < query.to, query.interval >= 1_000, query.interval <= Self.timeLimit, !query.aggregates.isEmpty else {
            throw TimeSeriesError(.invalidArgument, "an aggregate query needs from < to, an interval of at least 1 s and an aggregate")
        }
        for case .percentile(let p) in query.aggregates where !(p > 0 && p <= 100) {
            throw TimeSeriesError(.invalidArgument, "percentiles must be in (0, 100]")
        }
        let keepValues = query.aggregates.contains { if case .percentile = $0 { return true } else { return false } }
        let useRollups = query.useRollups && !keepValues && query.interval % RollupResolution.minute.milliseconds == 0
        let snapshot = snapshot(query.selector, from: query.from, to: query.to)
        var result = AggregateResult(groups: [], rollupBucketsUsed: 0, rawPointsRead: 0)
        var tables: [AccumulatorTable] = []
        var groupOf: [MeasureGroup: Int] = [:]
        var groupKeys: [(device: String?, measure: String, tags: String, isString: Bool)] = []
        for (order, series) in snapshot.series.enumerated() {
            let group: Int
            let isString = series.type == .string
            switch query.grouping {
            case .series:
                group = tables.count
                groupKeys.append((series.key.device, series.key.measure, series.key.tags, isString))
                tables.append(AccumulatorTable(from: query.from, to: query.to, interval: query.interval, keepValues: keepValues))
            case .measure:
                // String series are combined only with string series of the measure (codes are not numbers).
                let key = MeasureGroup(measure: series.key.measure, isString: isString)
                if let existing = groupOf[key] {
                    group = existing
                } else {
                    group = tables.count
                    groupOf[key] = group
                    groupKeys.append((nil, series.key.measure, "", isString))
                    tables.append(AccumulatorTable(from: query.from, to: query.to, interval: query.interval, keepValues: keepValues))
                }
            }
            if useRollups {
                try accumulateWithRollups(snapshot, series, order: order, query: query, into: &tables[group], result: &result)
            } else {
                try accumulateRaw(snapshot, series, from: query.from, to: query.to, order: order, into: &tables[group], result: &result)
            }
        }
        let dictionary = groupKeys.contains { $0.isString } ? strings.values : []
        for (index, key) in groupKeys.enumerated() {
            var buckets = tables[index].buckets(query.aggregates)
            guard !buckets.isEmpty else { continue }
            if key.isString { Self.resolveStrings(&buckets, query.aggregates, dictionary) }
            result.groups.append(AggregateGroup(device: key.device, measure: key.measure, tags: key.tags, isString: key.isString, buckets: buckets))
        }
        if query.grouping == .measure {
            result.groups.sort { ($0.measure == $1.measure) ? !$0.isString : $0.measure.utf8.lexicographicallyPrecedes($1.measure.utf8) }
        }
        return result
    }

    /// A string group's buckets: count as computed, first and last as strings (their codes kept), every
    /// other aggregate NaN (codes have no order or sum).
    private static func resolveStrings(_ buckets: inout [AggregateBucket], _ aggregates: [Aggregate], _ dictionary: [String]) {
        for b in buckets.indices {
            var strings = [String?](repeating: nil, count: aggregates.count)
            for (a, aggregate) in aggregates.enumerated() {
                switch aggregate {
                case .count: break
                case .first, .last: strings[a] = string(buckets[b].values[a], dictionary)
                default: buckets[b].values[a] = .nan
                }
            }
            buckets[b].strings = strings
        }
    }

    /// Raw points of [from, to) into the table.
    private func accumulateRaw(
        _ snapshot: QuerySnapshot, _ series: QuerySnapshot.Series, from: Int64, to: Int64, order: Int, into table: inout AccumulatorTable, result: inout AggregateResult
    ) throws(TimeSeriesError) {
        let run = try snapshot.points(series, from: from, to: to)
        result.rawPointsRead += run.times.count
        var start = Int64.min, end = Int64.min
        for i in run.times.indices {
            let time = run.times[i]
            if time >= end || time < start {
                start = Rollup.align(time, to: table.interval)
                end = start + table.interval
            }
            table.add(bucket: start, time: time, value: run.values[i], order: order)
        }
    }

    /// Whole minutes (and whole hours when the interval is a multiple of one) from roll-ups, the ragged
    /// ends and dirty minute buckets from raw points (a dirty hour falls back to its minutes), unsealed head
    /// points added one by one.
    private func accumulateWithRollups(
        _ snapshot: QuerySnapshot, _ series: QuerySnapshot.Series, order: Int, query: AggregateQuery, into table: inout AccumulatorTable, result: inout AggregateResult
    ) throws(TimeSeriesError) {
        let minute = RollupResolution.minute.milliseconds, hour = RollupResolution.hour.milliseconds
        let minuteLow = Self.alignUp(query.from, minute), minuteHigh = Rollup.align(query.to, to: minute)
        guard minuteLow < minuteHigh else {
            return try accumulateRaw(snapshot, series, from: query.from, to: query.to, order: order, into: &table, result: &result)
        }
        var spans: [(from: Int64, to: Int64, resolution: RollupResolution)] = []
        let hourLow = Self.alignUp(minuteLow, hour), hourHigh = Rollup.align(minuteHigh, to: hour)
        if query.interval % hour == 0, hourLow < hourHigh {
            if minuteLow < hourLow { spans.append((minuteLow, hourLow, .minute)) }
            spans.append((hourLow, hourHigh, .hour))
            if hourHigh < minuteHigh { spans.append((hourHigh, minuteHigh, .minute)) }
        } else {
            spans.append((minuteLow, minuteHigh, .minute))
        }
        var rawRanges: [(from: Int64, to: Int64)] = []
        if query.from < minuteLow { rawRanges.append((query.from, minuteLow)) }
        if minuteHigh < query.to { rawRanges.append((minuteHigh, query.to)) }
        var next = 0
        while next < spans.count {
            let span = spans[next]
            next += 1
            let step = span.resolution.milliseconds
            let buckets = try snapshot.rollups(series, span.resolution, from: span.from, to: span.to)
            // A bucket with out-of-order points waiting in the buffer may count a time twice: read it raw.
            var dirty = Set<Int64>()
            for time in series.bufferTimes where time >= span.from && time < span.to {
                let start = Rollup.align(time, to: step)
                if dirty.insert(start).inserted {
                    if span.resolution == .hour { spans.append((start, start + step, .minute)) } else { rawRanges.append((start, start + step)) }
                }
            }
            for bucket in buckets {
                let start = bucket.start
                if dirty.contains(start) { continue }
                if bucket.dirty {
                    dirty.insert(start)
                    // A dirty hour is read from its minutes (most of them are usually clean).
                    if span.resolution == .hour { spans.append((start, start + step, .minute)) } else { rawRanges.append((start, start + step)) }
                } else if bucket.count > 0 {
                    table.add(bucket: Rollup.align(start, to: table.interval), rollup: bucket, order: order)
                    result.rollupBucketsUsed += 1
                }
            }
            let low = QuerySnapshot.lowerBound(series.headTimes, span.from), high = QuerySnapshot.lowerBound(series.headTimes, span.to)
            for i in low..<high {
                let time = series.headTimes[i]
                if !dirty.isEmpty, dirty.contains(Rollup.align(time, to: step)) { continue }
                table.add(bucket: Rollup.align(time, to: table.interval), time: time, value: series.headValues[i], order: order)
                result.rawPointsRead += 1
            }
        }
        rawRanges.sort { $0.from < $1.from }
        var merged: [(from: Int64, to: Int64)] = []
        for range in rawRanges {
            if let last = merged.last, last.to >= range.from {
                merged[merged.count - 1].to = max(last.to, range.to)
            } else {
                merged.append(range)
            }
        }
        for range in merged {
            try accumulateRaw(snapshot, series, from: range.from, to: range.to, order: order, into: &table, result: &result)
        }
    }

    static func alignUp(_ time: Int64, _ step: Int64) -> Int64 {
        let down = Rollup.align(time, to: step)
        return down == time ? time : down + step
    }
}

/// A group of `grouping: .measure`: the measure, and whether its series are string series.
private struct MeasureGroup: Hashable {
    var measure: String
    var isString: Bool
}
