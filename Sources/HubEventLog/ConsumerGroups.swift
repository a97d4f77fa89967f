import Synchronization

/// Named consumer groups of an `EventLog` and their per-partition checkpoints.
///
/// Each group is one small file `{log}/consumer-groups/{name}.checkpoint` holding, per partition, the
/// next offset to read (-1: none yet), replaced atomically (temporary file, fsync, rename, directory
/// fsync) on every `checkpoint` call — a file rather than SQLite because it is a few hundred bytes
/// written at consumer pace. Format: `MCG1`, u32 partition count, i64 per partition, CRC-32C of what
/// precedes, all little-endian.
public final class ConsumerGroups: Sendable {
    /// The group every hub has.
    public static let defaultGroup = "$Default"
    /// Groups allowed (Azure's standard tier allows 20).
    public static let maxGroups = 20

    let log: EventLog
    let directory: String
    private let groups: Mutex<[String: [Int64]]>

    /// Loads the groups of `log`, creating `$Default` if missing.
    public init(log: EventLog) throws(EventLogError) {
        self.log = log
        directory = log.directory + "/consumer-groups"
        try log.io.makeDirectory(directory)
        var loaded: [String: [Int64]] = [:]
        for name in try log.io.list(directory) where name.hasSuffix(".checkpoint") {
            let group = String(name.dropLast(".checkpoint".count))
            guard Self.isValid(group), let bytes = try SegmentScanner.readFile(log.io, directory + "/" + name) else { continue }
            loaded[group] = try Self.parse(bytes, partitions: log.partitionCount)
        }
        groups = Mutex(loaded)
        if loaded[Self.defaultGroup] == nil { try create(Self.defaultGroup) }
    }

    /// Names: 1–50 characters of letters, digits, `-`, `_`, `.`, and `$` as the first (for `$Default`).
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...50).contains(bytes.count) else { return false }
        return bytes.enumerated().allSatisfy { i, b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
                || (b == 0x2E && i > 0) || (b == 0x24 && i == 0)
        }
    }

    /// The group names, sorted.
    public var names: [String] { groups.withLock { $0.keys.sorted() } }

    /// Creates `name` with no checkpoints (no-op if it exists).
    public func create(_ name: String) throws(EventLogError) {
        guard Self.isValid(name) else { throw EventLogError(.invalidArgument, "invalid consumer group name") }
        let exists = groups.withLock { $0[name] != nil }
        if exists { return }
        guard groups.withLock({ $0.count }) < Self.maxGroups else { throw EventLogError(.invalidArgument, "at most \(Self.maxGroups) consumer groups") }
        let empty = [Int64](repeating: -1, count: log.partitionCount)
        try save(name, empty)
        groups.withLock { $0[name] = empty }
    }

    /// Deletes `name` and its checkpoints.
    public func delete(_ name: String) throws(EventLogError) {
        guard groups.withLock({ $0.removeValue(forKey: name) }) != nil else { return }
        try log.io.remove(path(name))
        try log.io.syncDirectory(directory)
    }

    /// The next offset `group` reads in `partition`, or nil when it has not checkpointed.
    public func checkpoint(group: String, partition: Int) throws(EventLogError) -> Int64? {
        guard let offsets = groups.withLock({ $0[group] }) else { throw EventLogError(.invalidArgument, "no such consumer group") }
        guard offsets.indices.contains(partition) else { throw EventLogError(.invalidArgument, "no partition \(partition)") }
        return offsets[partition] >= 0 ? offsets[partition] : nil
    }

    /// Durably records that `group` continues `partition` at `nextOffset`.
    public func checkpoint(group: String, partition: Int, nextOffset: Int64) throws(EventLogError) {
        guard var offsets = groups.withLock({ $0[group] }) else { throw EventLogError(.invalidArgument, "no such consumer group") }
        guard offsets.indices.contains(partition), nextOffset >= 0 else { throw EventLogError(.invalidArgument, "bad partition or offset") }
        offsets[partition] = nextOffset
        try save(group, offsets)
        groups.withLock { $0[group]?[partition] = nextOffset }
    }

    /// Where `group` reads `partition` from: its checkpoint, else `start` resolved against the log.
    public func position(group: String, partition: Int, default start: EventLog.StartPosition = .earliest) throws(EventLogError) -> Int64 {
        if let offset = try checkpoint(group: group, partition: partition) { return offset }
        return try log.resolve(start, partition: partition)
    }

    private func path(_ name: String) -> String { directory + "/" + name + ".checkpoint" }

    private func save(_ name: String, _ offsets: [Int64]) throws(EventLogError) {
        var bytes = Array("MCG1".utf8)
        withUnsafeBytes(of: UInt32(offsets.count).littleEndian) { bytes.append(contentsOf: $0) }
        for offset in offsets { withUnsafeBytes(of: offset.littleEndian) { bytes.append(contentsOf: $0) } }
        withUnsafeBytes(of: CRC32C.checksum(bytes).littleEndian) { bytes.append(contentsOf: $0) }
        try AtomicFile.write(bytes, to: path(name), io: log.io)
    }

    static func parse(_ bytes: [UInt8], partitions: Int) throws(EventLogError) -> [Int64] {
        guard bytes.count >= 12, bytes.starts(with: Array("MCG1".utf8)) else { throw EventLogError(.corrupt, "bad checkpoint file") }
        let body = Array(bytes.dropLast(4))
        let stored = bytes.suffix(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let count = Int(body[4..<8].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard CRC32C.checksum(body) == stored, body.count == 8 + count * 8 else { throw EventLogError(.corrupt, "bad checkpoint file") }
        var offsets = (0..<count).map { i in Int64(bitPattern: body[(8 + i * 8)..<(16 + i * 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }) }
        if offsets.count < partitions { offsets += [Int64](repeating: -1, count: partitions - offsets.count) }
        return Array(offsets.prefix(partitions))
    }
}
