/// Raw points, last values and listings.
extension TimeSeriesStore {
    /// Copies what a query over [from, to) of the selected series needs (see `QuerySnapshot`).
    func snapshot(_ selector: SeriesSelector, from: Int64, to: Int64) -> QuerySnapshot {
        state.withLock { s in
            s.table.ensureOrder()
            let ids = s.table.select(devices: selector.devices, measures: selector.measures)
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
        for series in snapshot.series {
            let run = try snapshot.points(series, from: from, to: to)
            guard !run.times.isEmpty else { continue }
            if remaining == 0 {
                result.truncated = true
                break
            }
            let take = min(remaining, run.times.count)
            if take < run.times.count { result.truncated = true }
            result.series.append(SeriesPoints(key: series.key, type: series.type, times: Array(run.times.prefix(take)), values: Array(run.values.prefix(take))))
            remaining -= take
        }
        return result
    }

    /// The newest value of each selected series that has one (kept in memory: no file is read).
    public func lastValues(_ selector: SeriesSelector) -> [LastValue] {
        state.withLock { s in
            s.table.ensureOrder()
            let ids = s.table.select(devices: selector.devices, measures: selector.measures)
            var result: [LastValue] = []
            result.reserveCapacity(ids.count)
            for id in ids {
                let head = s.heads[Int(id)]
                guard head.maxTime != .min else { continue }
                result.append(LastValue(key: s.table.keys[Int(id)], type: s.table.types[Int(id)], time: head.maxTime, value: head.lastValue))
            }
            return result
        }
    }

    /// The selected series, in key order.
    public func series(_ selector: SeriesSelector = .all) -> [SeriesInfo] {
        state.withLock { s in
            s.table.ensureOrder()
            return s.table.select(devices: selector.devices, measures: selector.measures).map {
                SeriesInfo(id: SeriesID(rawValue: $0), key: s.table.keys[Int($0)], type: s.table.types[Int($0)])
            }
        }
    }

    /// Every measure name, sorted.
    public func measures() -> [String] { state.withLock { $0.table.measures } }

    /// Every device id, sorted.
    public func devices() -> [String] { state.withLock { $0.table.devices } }
}
