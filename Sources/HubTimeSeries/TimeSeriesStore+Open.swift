extension TimeSeriesStore {
    /// Opens (creating if needed) the store in `directory`: reads the series dictionary and the files'
    /// indexes, then replays the write-ahead log. Only one store may have a directory open at a time (the
    /// hub's data-directory lock ensures it).
    public convenience init(directory: String, configuration: Configuration = Configuration()) throws(TimeSeriesError) {
        let settings = try StoreSettings(configuration)
        for sub in ["/wal", "/blocks", "/rollups/1m", "/rollups/1h"] { try StoreFileIO.makeDirectories(directory + sub) }
        let (seriesFile, table) = try SeriesFile.open(path: directory + "/series")
        let strings = try StringDictionary.open(
            path: directory + "/strings", maximumValues: configuration.maximumStringValues, maximumValueBytes: configuration.maximumStringBytes)
        let stringCount = Double(strings.count)
        var state = StoreState(settings: settings, table: table)
        var report = RecoveryReport()
        report.removedFiles = try Self.loadCatalog(directory: directory, into: &state)
        Self.restoreSeries(&state)

        // Replay: points of a series already in a file of their partition (up to that file's marker) are skipped.
        let walDirectory = directory + "/wal"
        let oldest = try StoreFileIO.list(walDirectory).compactMap { name -> UInt32? in
            name.hasSuffix(TimeSeriesWAL.fileExtension) ? UInt32(name.dropLast(TimeSeriesWAL.fileExtension.count)) : nil
        }.min()
        let markers = oldest.map { Self.replayMarkers(state.catalog, from: WALMarker.position(segment: $0, offset: 0)) } ?? [:]
        // A compacted partition (its roll-ups are in roll-up files) held every point accepted into it when
        // it was compacted, and a closed partition accepts no more: the WAL can only repeat its points, also
        // after retention trimmed or dropped them, taking their markers along. (Roll-ups outlive raw points;
        // `maintain` deletes WAL segments long before either expires.)
        let compacted = state.catalog.migrated[0].union(state.catalog.migrated[1])
        let partition = settings.partition
        let scan = try TimeSeriesWAL.recover(directory: walDirectory) { (payload, position) throws(TimeSeriesError) in
            let segment = UInt32(truncatingIfNeeded: position >> 32)
            try WALRecord.forEachPoint(payload) { (series, time, value) throws(TimeSeriesError) in
                let sid = Int(series)
                // A series or string code whose record did not reach the disk: the point was never acknowledged.
                guard sid < state.heads.count, state.table.types[sid] != .string || value < stringCount else {
                    state.counters.replaySkippedPoints += 1
                    return
                }
                let ordinal = state.nextOrdinal(sid, position: position)
                let start = Rollup.align(time, to: partition)
                if compacted.contains(start) {
                    state.counters.replaySkippedPoints += 1
                    return
                }
                if let marker = markers[SeriesPartition(series: series, partition: start)], WALMarker(position: position, ordinal: ordinal) < marker {
                    state.counters.replaySkippedPoints += 1
                    return
                }
                try state.insert(sid, time, value, ordinal: ordinal, position: position, segment: segment)
                state.counters.replayedPoints += 1
            }
            try state.advanceClosedBoundary(marker: WALMarker(position: position, ordinal: .max))
        }
        // Points replayed into partitions that were already closed are sealed now, so compaction sees them.
        let nextSegment = (scan.segments.last?.segment ?? oldest ?? 0) &+ 1
        let boundary = state.closedBoundary
        for sid in state.heads.indices where !state.heads[sid].isEmpty && state.heads[sid].minUnsealedTime < boundary {
            try state.seal(sid, marker: WALMarker(position: WALMarker.position(segment: nextSegment, offset: 0), ordinal: 0))
        }
        report.walRecords = scan.records
        report.replayedPoints = state.counters.replayedPoints
        report.skippedPoints = state.counters.replaySkippedPoints
        report.truncatedWALBytes = scan.truncatedBytes
        report.damagedWALSegments = scan.damagedSegments
        let wal = try TimeSeriesWAL(directory: walDirectory, segment: nextSegment, existing: scan.segments)
        self.init(directory: directory, configuration: configuration, settings: settings, state: state, wal: wal, seriesFile: seriesFile, strings: strings, recovery: report)
    }

    /// Opens every partition file; removes temporary files, files superseded by a finished compaction and
    /// empty directories. Returns how many files were removed.
    static func loadCatalog(directory: String, into state: inout StoreState) throws(TimeSeriesError) -> Int {
        var removed = 0
        var maxSequence: UInt64 = 0
        func load(_ root: String, kind: PartitionFile.Kind) throws(TimeSeriesError) -> [PartitionFile] {
            var result: [PartitionFile] = []
            for name in try StoreFileIO.list(root) {
                guard let start = Int64(name) else { continue }
                let partitionDirectory = root + "/" + name
                var files: [PartitionFile] = []
                for fileName in try StoreFileIO.list(partitionDirectory) {
                    let path = partitionDirectory + "/" + fileName
                    if fileName.hasSuffix(".tmp") {
                        try StoreFileIO.remove(path)
                        removed += 1
                        continue
                    }
                    guard fileName.hasSuffix(PartitionFile.fileExtension) else { continue }
                    let file = try PartitionFile(path: path)
                    guard file.kind == kind, file.partitionStart == start else {
                        throw TimeSeriesError(.corrupt, "\(path) does not belong in \(partitionDirectory)")
                    }
                    files.append(file)
                }
                let superseded = Set(files.flatMap(\.supersedes))
                for file in files where superseded.contains(file.sequence) {
                    try StoreFileIO.remove(file.path)
                    removed += 1
                }
                files.removeAll { superseded.contains($0.sequence) }
                if files.isEmpty { StoreFileIO.removeDirectoryIfEmpty(partitionDirectory) }
                for file in files { maxSequence = max(maxSequence, file.sequence) }
                result += files
            }
            return result
        }
        for file in try load(directory + "/blocks", kind: .raw) {
            state.catalog.add(raw: file)
            state.closedBoundary = max(state.closedBoundary, file.closedBoundary)
            state.counters.sealedPoints += file.pointCount
        }
        for resolution in RollupResolution.allCases {
            for file in try load(directory + "/rollups/" + resolution.directoryName, kind: .rollup) {
                state.catalog.add(rollup: file, resolution: resolution)
                state.closedBoundary = max(state.closedBoundary, file.closedBoundary)
            }
        }
        state.nextFileSequence = maxSequence + 1
        return removed
    }

    /// Restores each series' newest time and value from the newest partition holding it (the hot last
    /// values, and what the out-of-order rules compare with), and the high-water mark.
    static func restoreSeries(_ state: inout StoreState) {
        let count = state.heads.count
        guard count > 0 else { return }
        var found = [Int64](repeating: .min, count: count)  // partition the series was found in
        var rank = [UInt64](repeating: 0, count: count)     // precedence of the entry holding the max time
        var remaining = count
        for start in state.catalog.raw.keys.sorted(by: >) {
            for file in state.catalog.raw[start]! {
                for index in 0..<file.entryCount {
                    let entry = file.entry(at: index)
                    let sid = Int(entry.series)
                    guard sid < count, found[sid] == .min || found[sid] == start else { continue }
                    if found[sid] == .min {
                        found[sid] = start
                        remaining -= 1
                    }
                    let precedence = file.precedence << 24 | UInt64(index)
                    if entry.maxTime > state.heads[sid].maxTime || (entry.maxTime == state.heads[sid].maxTime && precedence > rank[sid]) {
                        state.heads[sid].maxTime = entry.maxTime
                        state.heads[sid].sealedMaxTime = entry.maxTime
                        state.heads[sid].lastValue = entry.lastValue
                        rank[sid] = precedence
                    }
                }
            }
            if remaining == 0 { break }
        }
        for sid in 0..<count where state.heads[sid].maxTime > state.highWater { state.highWater = state.heads[sid].maxTime }
    }

    /// The highest seal marker per (series, partition) among entries at or after the oldest WAL position.
    static func replayMarkers(_ catalog: Catalog, from position: UInt64) -> [SeriesPartition: WALMarker] {
        var markers: [SeriesPartition: WALMarker] = [:]
        for (start, files) in catalog.raw {
            for file in files where file.maxMarkerPosition >= position {
                for index in 0..<file.entryCount {
                    let entry = file.entry(at: index)
                    guard entry.marker.position >= position else { continue }
                    let key = SeriesPartition(series: entry.series, partition: start)
                    if let existing = markers[key], existing >= entry.marker { continue }
                    markers[key] = entry.marker
                }
            }
        }
        return markers
    }
}

/// A (series, partition start) pair.
struct SeriesPartition: Hashable, Sendable {
    var series: UInt32
    var partition: Int64
}
