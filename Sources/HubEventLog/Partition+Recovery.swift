import HubStorage

/// What recovery hands the writer: the segments and the open files of the active (last) one.
struct RecoveredPartition {
    var segments: [Segment]
    var fd: Int32
    var indexFD: Int32
    var timeIndexFD: Int32
    var lastIndexedPosition: Int64?
    var lastTime: Int64
    /// Human-readable notes on what recovery repaired (truncated tail, rebuilt index), for the log.
    var repairs: [String]
}

extension Partition {
    static func path(_ directory: String, _ base: Int64, _ ext: String) -> String {
        directory + "/" + Segment.fileName(base, ext)
    }

    /// Opens a partition directory: every segment's index files are loaded and checked, and only the
    /// records after each segment's last index entry are scanned (at most `indexIntervalBytes` plus a
    /// record), so start-up cost grows with the number of segments, not with their bytes. A torn or
    /// corrupt tail of the last segment is truncated at the last good record; an index that does not fit
    /// its segment is rebuilt by scanning that segment.
    static func recover(
        io: any LogFileIO, directory: String, indexInterval: Int, durability: DurabilityMode
    ) throws(EventLogError) -> RecoveredPartition {
        try io.makeDirectory(directory)
        let names = try io.list(directory)
        var bases = names.compactMap(Segment.baseOffset(fromLogName:)).sorted()
        var repairs: [String] = []
        if bases.isEmpty {
            let fd = try io.open(path(directory, 0, "log"), create: true, readOnly: false)
            io.close(fd)
            if durability == .power { try io.syncDirectory(directory) }
            bases = [0]
        }
        var segments: [Segment] = []
        var last: (fd: Int32, lastIndexed: Int64?)?
        for (i, base) in bases.enumerated() {
            let isLast = i == bases.count - 1
            let (segment, fd, lastIndexed, notes) = try recoverSegment(
                io: io, directory: directory, base: base, isLast: isLast, indexInterval: indexInterval, durability: durability)
            repairs += notes
            if let previous = segments.last, previous.nextOffset != segment.baseOffset {
                repairs.append("gap before segment \(base): previous ends at \(previous.nextOffset)")
            }
            segments.append(segment)
            if isLast { last = (fd, lastIndexed) } else { io.close(fd) }
        }
        guard let last else { throw EventLogError(.io, "no segment") }
        let active = segments[segments.count - 1]
        let indexFD = try io.open(path(directory, active.baseOffset, "index"), create: true, readOnly: false)
        let timeIndexFD = try io.open(path(directory, active.baseOffset, "timeindex"), create: true, readOnly: false)
        let lastTime = segments.reversed().lazy.compactMap(\.maxTime).first ?? Int64.min
        return RecoveredPartition(
            segments: segments, fd: last.fd, indexFD: indexFD, timeIndexFD: timeIndexFD,
            lastIndexedPosition: last.lastIndexed, lastTime: lastTime, repairs: repairs)
    }

    /// Whether loaded index entries fit a segment of `fileSize` bytes based at `base`.
    static func indexesFit(_ index: [IndexEntry], _ times: [IndexEntry], base: Int64, fileSize: Int64) -> Bool {
        guard index.count == times.count else { return false }
        if let first = index.first, first.key != base || first.value != 0 { return false }
        for i in index.indices {
            guard index[i].value < fileSize, index[i].key == times[i].value else { return false }
            if i > 0 {
                guard index[i].key > index[i - 1].key, index[i].value > index[i - 1].value,
                      times[i].key >= times[i - 1].key else { return false }
            }
        }
        return true
    }

    static func recoverSegment(
        io: any LogFileIO, directory: String, base: Int64, isLast: Bool, indexInterval: Int, durability: DurabilityMode
    ) throws(EventLogError) -> (Segment, Int32, Int64?, [String]) {
        var notes: [String] = []
        let fd = try io.open(path(directory, base, "log"), create: false, readOnly: !isLast)
        do throws(EventLogError) {
            let fileSize = try io.size(fd)
            var index = try SegmentScanner.readFile(io, path(directory, base, "index")).flatMap(IndexEntry.parse) ?? []
            var times = try SegmentScanner.readFile(io, path(directory, base, "timeindex")).flatMap(IndexEntry.parse) ?? []
            var rewrite = false
            if !indexesFit(index, times, base: base, fileSize: fileSize) {
                if !(index.isEmpty && times.isEmpty) { notes.append("rebuilt index of segment \(base)") }
                index = []
                times = []
                rewrite = true
            }
            // Scan from the last index entry; if that entry does not name a good record there, drop it
            // (or everything, when it names another offset) and scan again from further back.
            while true {
                let startPosition = index.last?.value ?? 0
                var next = index.last?.key ?? base
                var lastIndexed = index.last?.value
                var firstTime = times.first?.key
                var maxTime = times.last?.key
                var newIndex: [IndexEntry] = []
                var newTimes: [IndexEntry] = []
                var firstSeen: Int64?
                let (goodEnd, _) = try SegmentScanner.scan(io, fd, from: startPosition, to: fileSize) { offset, time, position, _, _, _ in
                    if firstSeen == nil { firstSeen = offset }
                    guard offset == next else { return false }
                    if lastIndexed.map({ position - $0 >= Int64(indexInterval) }) ?? true {
                        newIndex.append(IndexEntry(key: offset, value: position))
                        newTimes.append(IndexEntry(key: time, value: offset))
                        lastIndexed = position
                    }
                    if firstTime == nil { firstTime = time }
                    maxTime = max(maxTime ?? time, time)
                    next = offset + 1
                    return true
                }
                if !index.isEmpty && (firstSeen != index.last!.key || goodEnd == startPosition) {
                    if firstSeen != nil && firstSeen != index.last!.key {
                        index = []
                        times = []
                    } else {
                        index.removeLast()
                        times.removeLast()
                    }
                    notes.append("rebuilt index of segment \(base)")
                    rewrite = true
                    continue
                }
                if goodEnd < fileSize {
                    if isLast {
                        try io.truncate(fd, to: goodEnd)
                        if durability == .power { try io.sync(fd) }
                        notes.append("truncated torn tail of segment \(base) at byte \(goodEnd) (\(fileSize - goodEnd) bytes)")
                    } else {
                        notes.append("segment \(base) has \(fileSize - goodEnd) unreadable bytes after byte \(goodEnd)")
                    }
                }
                index += newIndex
                times += newTimes
                if rewrite || !newIndex.isEmpty {
                    try writeIndex(io: io, path: path(directory, base, "index"), index)
                    try writeIndex(io: io, path: path(directory, base, "timeindex"), times)
                }
                var segment = Segment(baseOffset: base)
                segment.nextOffset = next
                segment.size = goodEnd
                segment.firstTime = firstTime
                segment.maxTime = maxTime
                segment.index = index
                segment.timeIndex = times
                return (segment, fd, lastIndexed, notes)
            }
        } catch {
            io.close(fd)
            throw error
        }
    }

    /// Replaces an index file's contents (not fsynced: indexes are checked and rebuilt at start-up).
    static func writeIndex(io: any LogFileIO, path: String, _ entries: [IndexEntry]) throws(EventLogError) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.count * IndexEntry.size)
        for entry in entries { IndexEntry.append(entry, to: &bytes) }
        let fd = try io.open(path, create: true, readOnly: false)
        defer { io.close(fd) }
        try io.truncate(fd, to: 0)
        try io.write(fd, bytes, at: 0)
    }
}
