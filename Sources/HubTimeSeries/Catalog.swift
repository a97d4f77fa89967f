/// The files on disk, by partition: raw partitions (blocks, with 1-minute roll-ups after them until the
/// partition is closed and compacted)
/// and the roll-up partitions of each resolution. Readers are reference-counted, so a query holding a
/// snapshot keeps reading files that compaction or retention has since unlinked.
struct Catalog: Sendable {
    /// Raw partition start → its files, by precedence (oldest first; later files win on equal times).
    var raw: [Int64: [PartitionFile]] = [:]
    /// Per resolution (index rawValue - 1): roll-up partition start → its files, by sequence number.
    var rollups: [[Int64: [PartitionFile]]] = [[:], [:]]
    /// Per resolution: raw partitions whose roll-ups live in roll-up files (their raw files' roll-up
    /// chunks after blocks, if any are left, are ignored).
    var migrated: [Set<Int64>] = [[], []]

    mutating func add(raw file: PartitionFile) {
        raw[file.partitionStart, default: []].append(file)
        raw[file.partitionStart]!.sort { ($0.precedence, $0.sequence) < ($1.precedence, $1.sequence) }
    }

    mutating func add(rollup file: PartitionFile, resolution: RollupResolution) {
        let index = Int(resolution.rawValue) - 1
        rollups[index][file.partitionStart, default: []].append(file)
        rollups[index][file.partitionStart]!.sort { $0.sequence < $1.sequence }
        migrated[index].formUnion(file.covered)
    }

    /// Raw partitions overlapping [from, to), oldest first.
    func rawPartitions(overlapping from: Int64, _ to: Int64, duration: Int64) -> [(start: Int64, files: [PartitionFile])] {
        raw.filter { $0.key < to && $0.key &+ duration > from }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    func rollupPartitions(_ resolution: RollupResolution, overlapping from: Int64, _ to: Int64, duration: Int64) -> [[PartitionFile]] {
        rollups[Int(resolution.rawValue) - 1].filter { $0.key < to && $0.key &+ duration > from }.sorted { $0.key < $1.key }.map(\.value)
    }

    /// Replaces some of a raw partition's files by their merge (nil: by nothing).
    mutating func replace(raw inputs: [PartitionFile], in start: Int64, with merged: PartitionFile?) {
        let removed = Set(inputs.map(\.sequence))
        var files = (raw[start] ?? []).filter { !removed.contains($0.sequence) }
        if let merged { files.append(merged) }
        files.sort { ($0.precedence, $0.sequence) < ($1.precedence, $1.sequence) }
        raw[start] = files.isEmpty ? nil : files
    }

    func isMigrated(_ partition: Int64, _ resolution: RollupResolution) -> Bool {
        migrated[Int(resolution.rawValue) - 1].contains(partition)
    }

    var fileCount: Int { raw.values.reduce(0) { $0 + $1.count } + rollups.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } } }
    var rawBytes: Int64 { raw.values.reduce(0) { $0 + $1.reduce(0) { $0 + Int64($1.size) } } }
    var rollupBytes: Int64 { rollups.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.reduce(0) { $0 + Int64($1.size) } } } }
}
