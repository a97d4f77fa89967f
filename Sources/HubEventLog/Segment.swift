/// What the log knows about one segment file: `{partition}/{20-digit base offset}.log` with its sparse
/// `.index` (offset → file position) and `.timeindex` (enqueued time → offset) beside it.
///
/// Both index files are arrays of 16-byte little-endian entries, written with the same cadence (the
/// first record of the segment, then the first record at least `indexIntervalBytes` after the last
/// indexed one), so entry *i* of both names the same record. They are hints: recovery validates them
/// and rebuilds them from the segment when they do not fit.
struct Segment: Sendable {
    /// The offset of the segment's first record, also its name.
    let baseOffset: Int64
    /// One past the last committed record.
    var nextOffset: Int64
    /// Committed bytes; readers never look beyond.
    var size: Int64
    /// The enqueued time of the first record (for rolling by age), nil while empty.
    var firstTime: Int64?
    /// The largest enqueued time in the segment (for retention and seeking by time), nil while empty.
    var maxTime: Int64?
    /// Sparse offset → position entries, ascending.
    var index: [IndexEntry]
    /// Sparse time → offset entries, ascending, aligned with `index`.
    var timeIndex: [IndexEntry]

    init(baseOffset: Int64) {
        self.baseOffset = baseOffset
        self.nextOffset = baseOffset
        self.size = 0
        self.index = []
        self.timeIndex = []
    }

    var isEmpty: Bool { nextOffset == baseOffset }

    /// `{20-digit base offset}.{ext}`, so names sort in offset order.
    static func fileName(_ baseOffset: Int64, _ ext: String) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "." + ext
    }

    /// The base offset a `.log` name stands for, or nil for other names.
    static func baseOffset(fromLogName name: String) -> Int64? {
        guard name.hasSuffix(".log") else { return nil }
        let stem = name.dropLast(4)
        guard stem.count == 20, stem.allSatisfy({ $0 >= "0" && $0 <= "9" }) else { return nil }
        return Int64(stem)
    }

    /// The file position to start scanning at to find `offset`: the last index entry at or before it.
    func seekPosition(for offset: Int64) -> (offset: Int64, position: Int64) {
        var low = 0, high = index.count
        while low < high {
            let mid = (low + high) / 2
            if index[mid].key <= offset { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? (baseOffset, 0) : (index[low - 1].key, index[low - 1].value)
    }

    /// An offset from which scanning forward reaches the first record with enqueued time ≥ `time`:
    /// the last time-index entry whose time is before `time` (all records up to it are earlier).
    func seekOffset(forTime time: Int64) -> Int64 {
        var low = 0, high = timeIndex.count
        while low < high {
            let mid = (low + high) / 2
            if timeIndex[mid].key < time { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? baseOffset : timeIndex[low - 1].value
    }
}

/// One entry of an index file: `key` (offset or time) → `value` (position or offset).
struct IndexEntry: Sendable, Hashable {
    var key: Int64
    var value: Int64

    static let size = 16

    static func append(_ entry: IndexEntry, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: entry.key.littleEndian) { buffer.append(contentsOf: $0) }
        withUnsafeBytes(of: entry.value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    /// Parses an index file's bytes; nil when the length is not a whole number of entries.
    static func parse(_ bytes: [UInt8]) -> [IndexEntry]? {
        guard bytes.count % size == 0 else { return nil }
        return bytes.withUnsafeBytes { raw in
            stride(from: 0, to: raw.count, by: size).map {
                IndexEntry(
                    key: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0, as: Int64.self)),
                    value: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 + 8, as: Int64.self)))
            }
        }
    }
}

/// Sequential scanning of a segment file, for recovery and reads.
enum SegmentScanner {
    /// How much is read per `pread`.
    static let chunkSize = 1024 * 1024

    /// Calls `visit(offset, time, position, length, bytes, at)` for each valid record from `start` up to
    /// `end` until it returns false (`bytes[at...]` holds the record, for decoding). Returns where the last visited record ends and whether the scan stopped
    /// cleanly (at `end` or because `visit` said so) rather than at a torn or corrupt record.
    ///
    /// The first `pread` asks for `firstChunk` bytes, later ones double up to `chunkSize`: a reader that
    /// wants a few new records (a stream job keeping up) reads kilobytes, a recovery or a catch-up megabytes.
    static func scan(
        _ io: any LogFileIO, _ fd: Int32, from start: Int64, to end: Int64, firstChunk: Int = chunkSize,
        visit: (Int64, Int64, Int64, Int, UnsafeRawBufferPointer, Int) -> Bool
    ) throws(EventLogError) -> (goodEnd: Int64, clean: Bool) {
        // Not zero-filled: only the bytes `read` returned are ever looked at.
        var buffer = uninitializedBuffer(min(chunkSize, max(RecordCodec.headerSize, min(firstChunk, Int(end - start)))))
        var position = start
        while position < end {
            let want = Int(min(Int64(buffer.count), end - position))
            let got = try io.read(fd, into: &buffer, count: want, at: position)
            var consumed = 0
            var stop: Bool?  // nil: keep reading; true: visitor stopped; false: bad record
            var growTo = 0
            buffer.withUnsafeBytes { whole in
                let raw = UnsafeRawBufferPointer(rebasing: whole[0..<got])
                while consumed < got {
                    switch RecordCodec.frame(in: raw, at: consumed) {
                    case .valid(let length, let offset, let time):
                        guard visit(offset, time, position + Int64(consumed), length, raw, consumed) else {
                            stop = true
                            return
                        }
                        consumed += length
                    case .incomplete(let needed):
                        let total = needed ?? RecordCodec.headerSize
                        if got < want || position + Int64(consumed + total) > end {
                            stop = false  // the file ends inside this record: torn
                        } else if total > buffer.count {
                            growTo = total
                        }
                        return
                    case .corrupt:
                        stop = false
                        return
                    }
                }
            }
            position += Int64(consumed)
            if let stop { return (position, stop) }
            if got == 0 { return (position, false) }
            if growTo > 0 {
                buffer = uninitializedBuffer(max(growTo, min(chunkSize, buffer.count * 2)))
            } else if buffer.count < chunkSize, Int64(buffer.count) < end - position {
                buffer = uninitializedBuffer(min(chunkSize, buffer.count * 2))
            }
        }
        return (position, true)
    }

    /// A byte array of `count` bytes whose contents are unspecified (cheaper than zeroing a megabyte per read).
    private static func uninitializedBuffer(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// Reads a whole small file (an index), or nil when it does not exist.
    static func readFile(_ io: any LogFileIO, _ path: String) throws(EventLogError) -> [UInt8]? {
        let fd: Int32
        do {
            fd = try io.open(path, create: false, readOnly: true)
        } catch {
            return nil
        }
        defer { io.close(fd) }
        let size = try io.size(fd)
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let got = try io.read(fd, into: &bytes, count: bytes.count, at: 0)
        return Array(bytes[0..<got])
    }
}
