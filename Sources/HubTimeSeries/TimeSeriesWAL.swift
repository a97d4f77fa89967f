import HubEventLog
import Synchronization

/// Where a sealed block's points end in the write-ahead log: every point of the series (in that block's
/// partition) logged before record `position`, plus the first `ordinal` points of the series in that record,
/// are in the block or an earlier one. Replay skips exactly those points.
struct WALMarker: Comparable, Sendable, Hashable {
    /// Segment number << 32 | byte offset of the record in the segment.
    var position: UInt64
    var ordinal: UInt32

    static let zero = WALMarker(position: 0, ordinal: 0)

    static func < (lhs: WALMarker, rhs: WALMarker) -> Bool {
        (lhs.position, lhs.ordinal) < (rhs.position, rhs.ordinal)
    }

    static func position(segment: UInt32, offset: Int64) -> UInt64 { UInt64(segment) << 32 | UInt64(offset) }
}

/// The store's write-ahead log: numbered segment files under `<dir>/wal/`, each a 16-byte header
/// ("MTSW", version, segment number) followed by records framed as length (4 B) + CRC-32C of the payload
/// (4 B) + payload (a `WALRecord`). Records hold only accepted points, in the order they were applied.
///
/// `append` writes (the bytes survive a process kill); `sync` returns after `fdatasync`, so callers can
/// group-commit many appends under one sync. A new segment is started when the current one is full; the
/// previous one is fsynced first, so only the last segment can have a torn tail. Segments are deleted by
/// the store's checkpoint once every point in them is in a block file.
final class TimeSeriesWAL: Sendable {
    static let magic: UInt32 = 0x5753_544D  // "MTSW" little endian
    static let version: UInt8 = 1
    static let headerSize: Int64 = 16
    /// Bytes in front of a record's payload.
    static let frameSize = 8
    static let maximumRecordBytes = 1 << 28
    static let fileExtension = ".wal"

    let directory: String
    private let state: Mutex<State>

    private struct State {
        var current: FileHandleBox
        var currentSegment: UInt32
        var currentSize: Int64
        /// Sizes of the earlier segments still on disk, oldest first.
        var closed: [(segment: UInt32, size: Int64)]
        var syncedPosition: UInt64 = 0
    }

    /// Starts a new segment numbered `segment` after the `existing` ones (kept for replay until checkpointed).
    init(directory: String, segment: UInt32, existing: [(segment: UInt32, size: Int64)]) throws(TimeSeriesError) {
        self.directory = directory
        let file = try Self.createSegment(directory: directory, segment: segment)
        state = Mutex(State(current: file, currentSegment: segment, currentSize: Self.headerSize, closed: existing))
    }

    static func fileName(_ segment: UInt32) -> String {
        let digits = String(segment)
        return String(repeating: "0", count: max(0, 10 - digits.count)) + digits + fileExtension
    }

    private static func createSegment(directory: String, segment: UInt32) throws(TimeSeriesError) -> FileHandleBox {
        let file = try StoreFileIO.open(directory + "/" + fileName(segment), create: true)
        try StoreFileIO.truncate(file, to: 0)
        var header = ByteWriter(capacity: Int(headerSize))
        header.appendUInt32(magic)
        header.append(version)
        header.append(0)
        header.append(0)
        header.append(0)
        header.appendUInt32(segment)
        header.appendUInt32(0)
        try StoreFileIO.write(file, header.bytes, at: 0)
        try StoreFileIO.sync(file)
        try StoreFileIO.syncDirectory(directory)
        return file
    }

    /// The position the next record will get.
    var nextPosition: UInt64 {
        state.withLock { WALMarker.position(segment: $0.currentSegment, offset: $0.currentSize) }
    }

    var currentSegment: UInt32 { state.withLock { $0.currentSegment } }
    var currentSegmentBytes: Int64 { state.withLock { $0.currentSize } }
    var totalBytes: Int64 { state.withLock { s in s.closed.reduce(s.currentSize) { $0 + $1.size } } }
    var segmentCount: Int { state.withLock { $0.closed.count + 1 } }
    /// Segments on disk with their sizes, oldest first (the current one last).
    var segments: [(segment: UInt32, size: Int64)] { state.withLock { $0.closed + [($0.currentSegment, $0.currentSize)] } }

    /// Fills in the frame of a record whose payload starts at `frameSize` in `buffer`.
    static func frame(_ buffer: inout [UInt8]) {
        let length = UInt32(buffer.count - frameSize)
        let crc = buffer.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[frameSize...])) }
        withUnsafeBytes(of: length.littleEndian) { for i in 0..<4 { buffer[i] = $0[i] } }
        withUnsafeBytes(of: crc.littleEndian) { for i in 0..<4 { buffer[4 + i] = $0[i] } }
    }

    /// Writes a framed record; returns its position.
    @discardableResult
    func append(_ record: [UInt8]) throws(TimeSeriesError) -> UInt64 {
        guard record.count - Self.frameSize <= Self.maximumRecordBytes else { throw TimeSeriesError(.invalidArgument, "a write-ahead log record is too large") }
        return try state.withLock { (s) throws(TimeSeriesError) -> UInt64 in
            if s.currentSize + Int64(record.count) > Int64(UInt32.max) { try Self.roll(&s, directory: directory) }
            let position = WALMarker.position(segment: s.currentSegment, offset: s.currentSize)
            do throws(TimeSeriesError) {
                try StoreFileIO.write(s.current, record, at: s.currentSize)
            } catch {
                // Cut a partial record off (best effort), so the segment stays valid up to here.
                try? StoreFileIO.truncate(s.current, to: s.currentSize)
                throw error
            }
            s.currentSize += Int64(record.count)
            return position
        }
    }

    /// Starts the next segment (the current one is fsynced first).
    func roll() throws(TimeSeriesError) {
        try state.withLock { (s) throws(TimeSeriesError) in try Self.roll(&s, directory: directory) }
    }

    private static func roll(_ s: inout State, directory: String) throws(TimeSeriesError) {
        try StoreFileIO.sync(s.current)
        let next = s.currentSegment &+ 1
        let file = try createSegment(directory: directory, segment: next)
        s.closed.append((s.currentSegment, s.currentSize))
        s.syncedPosition = max(s.syncedPosition, WALMarker.position(segment: next, offset: 0))
        s.current = file
        s.currentSegment = next
        s.currentSize = headerSize
    }

    /// Returns once everything appended before the call is on disk (`fdatasync`). Concurrent callers share
    /// syncs: a caller whose records an earlier sync already covered returns at once.
    func sync() throws(TimeSeriesError) {
        let (file, target, synced) = state.withLock { s in
            (s.current, WALMarker.position(segment: s.currentSegment, offset: s.currentSize), s.syncedPosition)
        }
        guard target > synced else { return }
        try StoreFileIO.sync(file)
        state.withLock { $0.syncedPosition = max($0.syncedPosition, target) }
    }

    /// Deletes the closed segments numbered below `segment`.
    func deleteSegments(below segment: UInt32) throws(TimeSeriesError) {
        let doomed = state.withLock { s -> [UInt32] in
            let doomed = s.closed.filter { $0.segment < segment }.map(\.segment)
            s.closed.removeAll { $0.segment < segment }
            return doomed
        }
        guard !doomed.isEmpty else { return }
        for number in doomed { try StoreFileIO.remove(directory + "/" + Self.fileName(number)) }
        try StoreFileIO.syncDirectory(directory)
    }

    /// Tests: swaps the current segment's descriptor for a read-only one, so the next append fails like a
    /// full disk would.
    func failNextWriteForTesting() throws(TimeSeriesError) {
        try state.withLock { (s) throws(TimeSeriesError) in
            s.current = try StoreFileIO.open(directory + "/" + Self.fileName(s.currentSegment), create: false, readOnly: true)
        }
    }

    /// The oldest segment still on disk.
    var oldestSegment: UInt32 { state.withLock { $0.closed.first?.segment ?? $0.currentSegment } }
}
