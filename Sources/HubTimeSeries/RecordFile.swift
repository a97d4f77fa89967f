import HubEventLog
import Synchronization

/// An append-only file of framed records: an 8-byte header (a 4-byte magic, version 1, 3 reserved bytes)
/// then records framed like WAL records (payload length, CRC-32C, payload). Opening reads every intact
/// record and cuts a torn tail; records are written in order and made durable by `sync()`. The series and
/// string dictionaries are such files.
final class RecordFile: Sendable {
    static let headerSize: Int64 = 8

    let path: String
    private let file: FileHandleBox
    private let state: Mutex<(size: Int64, written: Int64, synced: Int64)>

    private init(path: String, file: FileHandleBox, size: Int64) {
        self.path = path
        self.file = file
        state = Mutex((size, size, size))
    }

    var size: Int64 { state.withLock { $0.size } }

    /// Opens (creating) the file and calls `body` with each intact record's payload, in order.
    static func open(
        path: String, magic: UInt32, what: String, maximumRecordBytes: Int, _ body: (UnsafeRawBufferPointer) throws(TimeSeriesError) -> Void
    ) throws(TimeSeriesError) -> RecordFile {
        let bytes = StoreFileIO.size(of: path) == nil ? [] : try StoreFileIO.readAll(path)
        let file = try StoreFileIO.open(path, create: true)
        if bytes.count < Int(headerSize) {
            var header = ByteWriter(capacity: 8)
            header.appendUInt32(magic)
            header.append(1)
            header.append(0)
            header.append(0)
            header.append(0)
            try StoreFileIO.truncate(file, to: 0)
            try StoreFileIO.write(file, header.bytes, at: 0)
            try StoreFileIO.sync(file)
            return RecordFile(path: path, file: file, size: headerSize)
        }
        let valid: Int = try withBytes(bytes) { (raw) throws(TimeSeriesError) -> Int in
            guard raw.baseAddress!.uint32(at: 0) == magic else { throw TimeSeriesError(.corrupt, "\(path) is not a \(what)") }
            guard raw[4] == 1 else { throw TimeSeriesError(.unsupportedVersion, "\(path): \(what) version \(raw[4]) is not known to this build") }
            var offset = Int(headerSize)
            while raw.count - offset >= 8 {
                let length = Int(raw.baseAddress!.uint32(at: offset)), crc = raw.baseAddress!.uint32(at: offset + 4)
                guard length > 0, length <= maximumRecordBytes, raw.count - offset - 8 >= length else { break }
                let payload = UnsafeRawBufferPointer(rebasing: raw[(offset + 8)..<(offset + 8 + length)])
                guard CRC32C.checksum(payload) == crc else { break }
                try body(payload)
                offset += 8 + length
            }
            return offset
        }
        if valid < bytes.count {
            try StoreFileIO.truncate(file, to: Int64(valid))
            try StoreFileIO.sync(file)
        }
        return RecordFile(path: path, file: file, size: Int64(valid))
    }

    /// Appends one record.
    func append(_ payload: [UInt8]) throws(TimeSeriesError) {
        var record = ByteWriter(capacity: payload.count + 8)
        record.appendUInt32(UInt32(payload.count))
        record.appendUInt32(CRC32C.checksum(payload))
        record.append(contentsOf: payload)
        try state.withLock { (s) throws(TimeSeriesError) in
            try StoreFileIO.write(file, record.bytes, at: s.size)
            s.size += Int64(record.count)
            s.written = s.size
        }
    }

    /// Makes every record appended before the call durable.
    func sync() throws(TimeSeriesError) {
        let target = state.withLock { $0.written > $0.synced ? $0.written : nil }
        guard let target else { return }
        try StoreFileIO.sync(file)
        state.withLock { $0.synced = max($0.synced, target) }
    }
}
