/// The append-only series dictionary on disk, `<dir>/series`: a `RecordFile` (magic "MTSD") with one
/// record per series: the id (4 B, ids are dense and in order), the value type (1 B; bit 7 set when tags
/// follow), the device id, the measure name and, when flagged, the canonical tags (each a varint length +
/// UTF-8). Read back into a `SeriesTable` on open; a torn last record is cut off.
///
/// A series record is written when the series is created and fsynced by the store's `sync()` (before the
/// WAL) and before any block file is written, so durable points never name an unknown series.
final class SeriesFile: Sendable {
    static let magic: UInt32 = 0x4453_544D  // "MTSD"
    private static let tagsFlag: UInt8 = 0x80

    private let records: RecordFile

    private init(records: RecordFile) { self.records = records }

    var path: String { records.path }
    var size: Int64 { records.size }

    /// Opens (creating) the file and loads every intact record.
    static func open(path: String) throws(TimeSeriesError) -> (SeriesFile, SeriesTable) {
        var table = SeriesTable()
        let records = try RecordFile.open(
            path: path, magic: magic, what: "series dictionary", maximumRecordBytes: 8 * SeriesTable.maximumNameBytes
        ) { (payload) throws(TimeSeriesError) in
            var reader = ByteReader(payload)
            let id = try reader.uint32()
            let typeByte = try reader.uint8()
            guard let type = ValueType(rawValue: typeByte & ~tagsFlag) else { throw TimeSeriesError(.corrupt, "\(path): unknown value type") }
            let device = try reader.string(maximumBytes: SeriesTable.maximumNameBytes)
            let measure = try reader.string(maximumBytes: SeriesTable.maximumNameBytes)
            let tags = typeByte & tagsFlag != 0 ? try reader.string(maximumBytes: SeriesTags.maximumBytes) : ""
            let key = SeriesKey(device: device, measure: measure, tags: tags)
            guard id == UInt32(table.count), table.id(of: key) == nil else { throw TimeSeriesError(.corrupt, "\(path): series ids are not dense") }
            table.add(key, type: type)
        }
        return (SeriesFile(records: records), table)
    }

    /// Appends a series record.
    func append(id: UInt32, key: SeriesKey, type: ValueType) throws(TimeSeriesError) {
        var payload = ByteWriter(capacity: 16 + key.device.utf8.count + key.measure.utf8.count + key.tags.utf8.count)
        payload.appendUInt32(id)
        payload.append(key.tags.isEmpty ? type.rawValue : type.rawValue | Self.tagsFlag)
        payload.appendString(key.device)
        payload.appendString(key.measure)
        if !key.tags.isEmpty { payload.appendString(key.tags) }
        try records.append(payload.bytes)
    }

    /// Makes every record appended before the call durable.
    func sync() throws(TimeSeriesError) { try records.sync() }
}
