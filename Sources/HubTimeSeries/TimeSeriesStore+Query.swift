/// Raw points, last values and listings.
extension TimeSeriesStore {
    /// Copies what a query over [from, to) of the selected series needs (see `QuerySnapshot`).
    func snapshot(_ selector: SeriesSelector, from: Int64, to: Int64) -> QuerySnapshot {
        state.withLock { s in
            s.table.ensureOrder()
            let ids = s.table.select(devices: selector.devices, measures: selector.measures, tags: selector.tags)
            var series: [QuerySnapshot.Series] = []
            series.reserveCapacity(ids.count)
            for id in ids {
                let head = s.heads[Int(id)]
                let headRun = QuerySnapshot.slice(head.times, head.values, from: from, to: to)
                let bufferRun = QuerySnapshot.slice(head.oooTimes, head.oooValues, from: from, to: to)
                series.append(QuerySnapshot.Series(
                    id: id, key: s.table.keys[Int(id)], type: s.table.types[Int(id)],
                    headTimes: headRun.times, headValues: headRun.values, bufferTimes: bufferRun.times, bufferValues: bufferRun.values))
            }
            if !s.flushing.isEmpty || !s.pending.isEmpty {
                var slot = [Int32](repeating: -1, count: s.table.count)
                for (position, id) in ids.enumerated() { slot[Int(id)] = Int32(position) }
                for block in s.flushing + s.pending where block.minTime < to && block.maxTime >= from {
                    let position = slot[Int(block.series)]
                    if position >= 0 { series[Int(position)].memoryBlocks.append(block) }
                }
            }
            return QuerySnapshot(series: series, catalog: s.catalog, partition: settings.partition, rollupPartition: settings.rollupPartition, from: from, to: to)
        }
    }

    /// The points of the selected series in [from, to) (ms), series in key order, at most `limit` points in
    /// total; `truncated` says more matched.
    public func rawPoints(_ selector: SeriesSelector, from: Int64, to: Int64, limit: Int = 1_000_000) throws(TimeSeriesError) -> RawPointsResult {
        guard from < to, limit >= 0 else { throw TimeSeriesError(.invalidArgument, "a query needs from < to and a limit ≥ 0") }
        let from = max(from, -Self.timeLimit), to = min(to, Self.timeLimit + 1)
        let snapshot = snapshot(selector, from: from, to: to)
        var result = RawPointsResult(series: [], truncated: false)
        var remaining = limit
        let dictionary = snapshot.series.contains { $0.type == .string } ? strings.values : []
        for series in snapshot.series {
            let run = try snapshot.points(series, from: from, to: to)
            guard !run.times.isEmpty else { continue }
            if remaining == 0 {
                result.truncated = true
                break
            }
            let take = min(remaining, run.times.count)
            if take < run.times.count { result.truncated = true }
            var points = SeriesPoints(key: series.key, type: series.type, times: Array(run.times.prefix(take)), values: Array(run.values.prefix(take)))
            if series.type == .string { points.strings = points.values.map { Self.string($0, dictionary) } }
            result.series.append(points)
            remaining -= take
        }
        return result
    }

    /// The newest value of each selected series that has one (kept in memory: no file is read).
    public func lastValues(_ selector: SeriesSelector) -> [LastValue] {
        state.withLock { s in
            // Codes are added before points name them, so a snapshot taken now knows every code in a head.
            let dictionary = strings.values
            s.table.ensureOrder()
            let ids = s.table.select(devices: selector.devices, measures: selector.measures, tags: selector.tags)
            var result: [LastValue] = []
            result.reserveCapacity(ids.count)
            for id in ids {
                let head = s.heads[Int(id)]
                guard head.maxTime != .min else { continue }
                let type = s.table.types[Int(id)]
                result.append(LastValue(
                    key: s.table.keys[Int(id)], type: type, time: head.maxTime, value: head.lastValue,
                    string: type == .string ? Self.string(head.lastValue, dictionary) : nil))
            }
            return result
        }
    }

    /// The selected series, in key order.
    public func series(_ selector: SeriesSelector = .all) -> [SeriesInfo] {
        state.withLock { s in
            s.table.ensureOrder()
            return s.table.select(devices: selector.devices, measures: selector.measures, tags: selector.tags).map {
                SeriesInfo(id: SeriesID(rawValue: $0), key: s.table.keys[Int($0)], type: s.table.types[Int($0)])
            }
        }
    }

    /// The string of a dictionary code (a code the dictionary snapshot does not have yet cannot be stored;
    /// shown as an empty string rather than trapping).
    static func string(_ code: Double, _ dictionary: [String]) -> String {
        guard code >= 0, code < Double(dictionary.count) else { return "" }
        return dictionary[Int(code)]
    }

    /// Every measure name, sorted.
    public func measures() -> [String] { state.withLock { $0.table.measures } }

    /// Every device id, sorted.
    public func devices() -> [String] { state.withLock { $0.table.devices } }
}
