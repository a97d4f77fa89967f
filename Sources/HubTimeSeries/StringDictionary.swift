import Synchronization

/// The store's dictionary of string values (`<dir>/strings`): every distinct string a string series was
/// given, numbered densely in order of first use, like a SYMBOL column's table. String series store these
/// codes in their blocks (small integers that compress to a few bits a point); results map them back.
///
/// On disk a `RecordFile` (magic "MTSV") with one record per string: its code (4 B) and its UTF-8 bytes
/// (varint length + bytes). A code is written before any WAL record names it and fsynced by the store's
/// `sync()` before the WAL, so a durable point never names an unknown code (a replayed point that does was
/// never acknowledged, and is skipped).
///
/// Bounded: at most `maximumValues` distinct strings of at most `maximumValueBytes` each. A string beyond
/// either limit is refused, and counted — the point is not stored, never silently.
final class StringDictionary: Sendable {
    static let magic: UInt32 = 0x5653_544D  // "MTSV"

    struct State: Sendable {
        var values: [String] = []
        /// Keyed by UTF-8 bytes: `String` equality is canonical equivalence, and a store gives back exactly
        /// the bytes it was given.
        var codes: [[UInt8]: UInt32] = [:]
        var bytes = 0
        var refused = 0
    }

    private let records: RecordFile
    private let state: Mutex<State>
    let maximumValues: Int
    let maximumValueBytes: Int

    private init(records: RecordFile, state: State, maximumValues: Int, maximumValueBytes: Int) {
        self.records = records
        self.state = Mutex(state)
        self.maximumValues = maximumValues
        self.maximumValueBytes = maximumValueBytes
    }

    /// Opens (creating) the dictionary and loads every intact record.
    static func open(path: String, maximumValues: Int, maximumValueBytes: Int) throws(TimeSeriesError) -> StringDictionary {
        var state = State()
        let records = try RecordFile.open(
            path: path, magic: magic, what: "string dictionary", maximumRecordBytes: 16 + StringBlock.maximumValueBytes
        ) { (payload) throws(TimeSeriesError) in
            var reader = ByteReader(payload)
            let code = try reader.uint32()
            let length = try reader.varint()
            guard length <= UInt64(StringBlock.maximumValueBytes) else { throw TimeSeriesError(.corrupt, "\(path): a string is longer than allowed") }
            let utf8 = Array(try reader.bytes(Int(length)))
            guard code == UInt32(state.values.count), state.codes[utf8] == nil else { throw TimeSeriesError(.corrupt, "\(path): string codes are not dense") }
            state.codes[utf8] = code
            state.values.append(String(decoding: utf8, as: UTF8.self))
            state.bytes += utf8.count
        }
        return StringDictionary(records: records, state: state, maximumValues: maximumValues, maximumValueBytes: maximumValueBytes)
    }

    /// The code of `text`, adding it when new; nil when it is longer than `maximumValueBytes` or the
    /// dictionary is full (counted in `refused`).
    func code(for text: String) throws(TimeSeriesError) -> UInt32? {
        let utf8 = Array(text.utf8)
        return try state.withLock { (s) throws(TimeSeriesError) -> UInt32? in
            if let code = s.codes[utf8] { return code }
            guard utf8.count <= maximumValueBytes, s.values.count < maximumValues else {
                s.refused += 1
                return nil
            }
            let code = UInt32(s.values.count)
            var payload = ByteWriter(capacity: utf8.count + 8)
            payload.appendUInt32(code)
            payload.appendVarint(UInt64(utf8.count))
            payload.append(contentsOf: utf8)
            try records.append(payload.bytes)
            s.codes[utf8] = code
            s.values.append(text)
            s.bytes += utf8.count
            return code
        }
    }

    /// Every string so far, by code (a copy-on-write snapshot: cheap).
    var values: [String] { state.withLock { $0.values } }

    /// Strings in the dictionary.
    var count: Int { state.withLock { $0.values.count } }

    /// Strings refused since open (too long, or the dictionary full).
    var refused: Int { state.withLock { $0.refused } }

    /// Bytes of the file.
    var fileSize: Int64 { records.size }

    /// Makes every string added before the call durable.
    func sync() throws(TimeSeriesError) { try records.sync() }
}
