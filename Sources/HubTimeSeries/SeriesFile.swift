import HubEventLog
/// The append-only series dictionary on disk, `<dir>/series`: an 8-byte header ("MTSD", version, 3
/// reserved) then one record per series, framed like WAL records (length, CRC-32C, payload); the payload is
/// the id (4 B, ids are dense and in order), the value type (1 B), the device id and the measure name
/// (varint length + UTF-8). Read back into a `SeriesTable` on open; a torn last record is cut off.
///
/// A series record is written when the series is created and fsynced by the store's `sync()` (before the
/// WAL) and before any block file is written, so durable points never name an unknown series.
import Synchronization

final class SeriesFile: Sendable {
    static let magic: UInt32 = 0x4453_544D  // "MTSD"
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

    /// Opens (creating) the file and loads every intact record.
    static func open(path: String) throws(TimeSeriesError) -> (SeriesFile, SeriesTable) {
        let bytes = StoreFileIO.size(of: path) == nil ? [] : try StoreFileIO.readAll(path)
        let file = try StoreFileIO.open(path, create: true)
        var table = SeriesTable()
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
            return (SeriesFile(path: path, file: file, size: headerSize), table)
        }
        let valid: Int = try withBytes(bytes) { (raw) throws(TimeSeriesError) -> Int in
            guard raw.baseAddress!.uint32(at: 0) == magic else { throw TimeSeriesError(.corrupt, "\(path) is not a series dictionary") }
            guard raw[4] == 1 else { throw TimeSeriesError(.unsupportedVersion, "\(path): series dictionary version \(raw[4]) is not known to this build") }
            var offset = Int(headerSize)
            while raw.count - offset >= 8 {
                let length = Int(raw.baseAddress!.uint32(at: offset)), crc = raw.baseAddress!.uint32(at: offset + 4)
                guard length > 0, length <= 4 * SeriesTable.maximumNameBytes, raw.count - offset - 8 >= length else { break }
                let payload = UnsafeRawBufferPointer(rebasing: raw[(offset + 8)..<(offset + 8 + length)])
                guard CRC32C.checksum(payload) == crc else { break }
                var reader = ByteReader(payload)
                let id = try reader.uint32()
                guard let type = ValueType(rawValue: try reader.uint8()) else { throw TimeSeriesError(.corrupt, "\(path): unknown value type") }
                let key = SeriesKey(device: try reader.string(maximumBytes: SeriesTable.maximumNameBytes),
                                    measure: try reader.string(maximumBytes: SeriesTable.maximumNameBytes))
                guard id == UInt32(table.count), table.id(of: key) == nil else { throw TimeSeriesError(.corrupt, "\(path): series ids are not dense") }
                table.add(key, type: type)
                offset += 8 + length
            }
            return offset
        }
        if valid < bytes.count {
            try StoreFileIO.truncate(file, to: Int64(valid))
            try StoreFileIO.sync(file)
        }
        return (SeriesFile(path: path, file: file, size: Int64(valid)), table)
    }

    /// Appends a series record.
    func append(id: UInt32, key: SeriesKey, type: ValueType) throws(TimeSeriesError) {
        var payload = ByteWriter(capacity: 16 + key.device.utf8.count + key.measure.utf8.count)
        payload.appendUInt32(id)
        payload.append(type.rawValue)
        payload.appendString(key.device)
        payload.appendString(key.measure)
        var record = ByteWriter(capacity: payload.count + 8)
        record.appendUInt32(UInt32(payload.count))
        record.appendUInt32(CRC32C.checksum(payload.bytes))
        record.append(contentsOf: payload.bytes)
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
