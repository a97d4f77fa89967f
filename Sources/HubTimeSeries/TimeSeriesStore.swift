import Synchronization

/// The hub's time-series store: numeric, boolean and string series identified by (device id, measure,
/// tags), ingested in batches,
/// kept in compressed blocks in time partitions on disk, with continuous 1-minute and 1-hour roll-ups and a
/// query engine (raw points, bucketed aggregates, last values, listings).
///
/// Write path: `append` applies a batch to the in-memory heads under one short lock and writes the accepted
/// points to the write-ahead log as one record; `sync()` makes everything appended durable (group commit).
/// Full heads are sealed into `FloatBlock`s (with their roll-ups), buffered, and written as partition files
/// by the appending thread once `flushBytes` have accumulated (outside the state lock, so queries and other
/// appenders continue). The WAL is checkpointed as segments fill: segments whose points are all in files are
/// deleted. `maintain(now:)` (call it periodically, e.g. every minute, from a service) compacts closed
/// partitions, migrates their roll-ups to the roll-up files and applies retention.
///
/// Read path: a query copies what it needs from the heads and the list of files under the lock, then
/// decodes blocks without it.
///
/// Opening replays the WAL into the heads (skipping what block files already hold) and cuts a torn tail.
/// After a WAL write error (disk full) the batch throws, but its points may already be in the heads; the
/// next `append` first seals every head into block files and starts a new WAL segment (a checkpoint), and
/// throws again while that fails — so a caller that retries loses nothing once the disk has room.
///
/// Times are milliseconds since 1970 UTC. String values go through the store's string dictionary
/// (`stringValue(_:)`): a string series stores codes, and results carry the strings.
public final class TimeSeriesStore: Sendable {
    /// The store's directory (`series`, `wal/`, `blocks/`, `rollups/`).
    public let directory: String
    /// The configuration it was opened with.
    public let configuration: Configuration
    let settings: StoreSettings
    let state: Mutex<StoreState>
    let wal: TimeSeriesWAL
    let seriesFile: SeriesFile
    let strings: StringDictionary
    /// Serializes the work that writes or removes files (flush, checkpoint, compaction, retention): flushes
    /// must complete in order for the WAL markers in files to be exact. Appends only try it.
    let io = Mutex<Void>(())
    /// What opening found in the write-ahead log.
    public let recovery: RecoveryReport

    init(
        directory: String, configuration: Configuration, settings: StoreSettings, state: StoreState, wal: TimeSeriesWAL, seriesFile: SeriesFile,
        strings: StringDictionary, recovery: RecoveryReport
    ) {
        self.directory = directory
        self.configuration = configuration
        self.settings = settings
        self.state = Mutex(state)
        self.wal = wal
        self.seriesFile = seriesFile
        self.strings = strings
        self.recovery = recovery
    }

    var blocksDirectory: String { directory + "/blocks" }
    var walDirectory: String { directory + "/wal" }
    func rollupDirectory(_ resolution: RollupResolution) -> String { directory + "/rollups/" + resolution.directoryName }

    // MARK: series

    /// The id of (device, measure, tags), creating the series (with `type`) if it is new. Resolve ids once
    /// and append by id. The type of an existing series is not changed (see `type(of:)`). `tags`: the
    /// canonical form (`SeriesTags.canonical`), empty for none.
    public func seriesID(device: String, measure: String, tags: String = "", type: ValueType = .float) throws(TimeSeriesError) -> SeriesID {
        let key = SeriesKey(device: device, measure: measure, tags: tags)
        return try state.withLock { (s) throws(TimeSeriesError) -> SeriesID in
            if let id = s.table.id(of: key) { return SeriesID(rawValue: id) }
            guard !s.closed else { throw .closed }
            try SeriesTable.validate(key)
            let id = UInt32(s.table.count)
            try seriesFile.append(id: id, key: key, type: type)
            s.table.add(key, type: type)
            s.heads.append(SeriesHead())
            return SeriesID(rawValue: id)
        }
    }

    /// The id of an existing series.
    public func existingSeriesID(device: String, measure: String, tags: String = "") -> SeriesID? {
        state.withLock { $0.table.id(of: SeriesKey(device: device, measure: measure, tags: tags)).map(SeriesID.init(rawValue:)) }
    }

    /// The value type of a series this store returned.
    public func type(of series: SeriesID) -> ValueType? {
        state.withLock { s in Int(series.rawValue) < s.table.count ? s.table.types[Int(series.rawValue)] : nil }
    }

    /// The value to append to a string series for `text`: its code in the store's string dictionary (added,
    /// and written to the dictionary file, when new). Nil when the string is longer than
    /// `Configuration.maximumStringBytes` or the dictionary already holds `maximumStringValues` strings —
    /// the point cannot be stored; the refusal is counted (`statistics.rejectedStrings`).
    public func stringValue(_ text: String) throws(TimeSeriesError) -> Double? {
        try strings.code(for: text).map(Double.init)
    }

    // MARK: writing

    /// Applies a batch: each value is accepted (stored; an equal time replaces: last write wins) or counted
    /// as rejected (too late, too far in the future). The accepted ones are in the write-ahead log when this
    /// returns (written, not yet fsynced: call `sync()` before acknowledging). Unknown series ids are an
    /// `.invalidArgument` error for the whole batch (nothing applied).
    @discardableResult
    public func append(_ batch: PointBatch) throws(TimeSeriesError) -> AppendResult {
        if state.withLock({ $0.failed }) { try recoverFromWALFailure() }
        var result = AppendResult()
        let futureLimit = settings.maximumFutureSkew.map { configuration.clock() &+ $0 }
        let stringCount = strings.count
        let series = batch.series, times = batch.times, values = batch.values
        var start = 0
        var maintenanceDue = false
        while start < series.count {
            let end = min(series.count, start + settings.maximumRecordPoints)
            let (chunk, due) = try state.withLock { (s) throws(TimeSeriesError) -> (AppendResult, Bool) in
                try applyChunk(&s, series, times, values, start..<end, futureLimit: futureLimit, stringCount: stringCount)
            }
            result += chunk
            maintenanceDue = maintenanceDue || due
            start = end
        }
        if maintenanceDue { try runDueMaintenance() }
        return result
    }

    /// Times beyond ±2^62 ms (±146 million years) are rejected (late or future), so partition arithmetic
    /// never overflows.
    static let timeLimit: Int64 = 1 << 62

    /// Appends one value by names (resolves the series each time: for low rates and tests).
    @discardableResult
    public func append(device: String, measure: String, tags: String = "", time: Int64, value: Double, type: ValueType = .float) throws(TimeSeriesError) -> AppendResult {
        var batch = PointBatch(capacity: 1)
        batch.append(try seriesID(device: device, measure: measure, tags: tags, type: type), time: time, value: value)
        return try append(batch)
    }

    /// Appends one string value by names (a string series; `rejectedStrings` counts a refused string).
    @discardableResult
    public func append(device: String, measure: String, tags: String = "", time: Int64, string: String) throws(TimeSeriesError) -> AppendResult {
        let id = try seriesID(device: device, measure: measure, tags: tags, type: .string)
        guard type(of: id) == .string else { throw TimeSeriesError(.invalidArgument, "\(device)/\(measure) is not a string series") }
        guard let code = try stringValue(string) else { return AppendResult(rejectedStrings: 1) }
        var batch = PointBatch(capacity: 1)
        batch.append(id, time: time, value: code)
        return try append(batch)
    }

    private func applyChunk(
        _ s: inout StoreState, _ series: [UInt32], _ times: [Int64], _ values: [Double], _ range: Range<Int>, futureLimit: Int64?, stringCount: Int
    ) throws(TimeSeriesError) -> (AppendResult, Bool) {
        guard !s.closed else { throw .closed }
        guard !s.failed else { throw .failed }  // another thread's batch failed meanwhile; the next call recovers
        let known = UInt32(s.heads.count)
        for i in range {
            guard series[i] < known else {
                throw TimeSeriesError(.invalidArgument, "a batch names series \(series[i]), which this store does not have")
            }
            if s.table.types[Int(series[i])] == .string, !(values[i] >= 0 && values[i] < Double(stringCount) && values[i] == values[i].rounded()) {
                throw TimeSeriesError(.invalidArgument, "a value for string series \(series[i]) is not a code from stringValue(_:)")
            }
        }
        var result = AppendResult()
        do throws(TimeSeriesError) {
            if wal.currentSegmentBytes >= settings.walSegmentBytes {
                try wal.roll()
                s.checkpointDue = true
            }
            let position = wal.nextPosition
            let segment = UInt32(truncatingIfNeeded: position >> 32)
            s.record.reset(expectedPoints: range.count)
            for i in range {
                let sid = Int(series[i]), time = times[i], value = values[i]
                if time > futureLimit ?? Self.timeLimit {
                    result.rejectedFuture += 1
                    continue
                }
                if time < -Self.timeLimit || s.isLate(sid, time) {
                    result.rejectedLate += 1
                    continue
                }
                let ordinal = s.nextOrdinal(sid, position: position)
                try s.insert(sid, time, value, ordinal: ordinal, position: position, segment: segment)
                s.record.add(series: UInt32(sid), time: time, value: value)
                result.accepted += 1
            }
            s.counters.rejectedLate += result.rejectedLate
            s.counters.rejectedFuture += result.rejectedFuture
            try s.advanceClosedBoundary(marker: WALMarker(position: position, ordinal: .max))
            if result.accepted > 0 {
                s.record.finish()
                let written = try wal.append(s.record.buffer)
                guard written == position else { throw TimeSeriesError(.corrupt, "write-ahead log position moved during a batch") }
            }
        } catch {
            s.failed = true
            throw error
        }
        let due = s.checkpointDue || s.pendingBytes >= settings.flushBytes
        return (result, due)
    }

    /// Makes the heads durable without the WAL (sealed into files), then starts a fresh segment.
    private func recoverFromWALFailure() throws(TimeSeriesError) {
        try io.withLock { (_) throws(TimeSeriesError) in
            guard state.withLock({ $0.failed }) else { return }
            try checkpointLocked(sealAll: true)
            state.withLock { $0.failed = false }
        }
    }

    /// Returns once every value appended before the call is durable (series records, then the WAL, each
    /// `fdatasync`ed). Concurrent callers share fsyncs.
    public func sync() throws(TimeSeriesError) {
        try seriesFile.sync()
        try strings.sync()
        try wal.sync()
    }

    /// Syncs, writes sealed blocks still in memory, and stops accepting appends. Heads are not sealed:
    /// the next open replays them from the WAL.
    public func close() throws(TimeSeriesError) {
        let alreadyClosed = state.withLock { s in
            defer { s.closed = true }
            return s.closed
        }
        guard !alreadyClosed else { return }
        try sync()
        try io.withLock { (_) throws(TimeSeriesError) in try flushLocked() }
    }
}
