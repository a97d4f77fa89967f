import HubEventLog
/// Writes one `PartitionFile`: data streamed to a temporary file, the sorted index and footer at the end,
/// fsync, then (in `commit`) the rename that makes it visible. A crash before the rename leaves only a
/// `.tmp` file, which opening the store removes.
struct PartitionFileWriter {
    let path: String
    let temporaryPath: String
    let kind: PartitionFile.Kind
    let partitionStart: Int64
    let sequence: UInt64
    private var output: BufferedFileWriter
    private var entries: [BlockEntry] = []
    private var rollups: [RollupEntry] = []
    private var pointCount: Int64 = 0
    private var maxMarker: UInt64 = 0

    init(directory: String, kind: PartitionFile.Kind, partitionStart: Int64, partitionDuration: Int64, sequence: UInt64) throws(TimeSeriesError) {
        path = directory + "/" + Self.fileName(sequence)
        temporaryPath = path + ".tmp"
        self.kind = kind
        self.partitionStart = partitionStart
        self.sequence = sequence
        output = try BufferedFileWriter(creating: temporaryPath)
        var header = ByteWriter(capacity: PartitionFile.headerSize)
        header.appendUInt32(PartitionFile.magic)
        header.append(PartitionFile.version)
        header.append(kind.rawValue)
        header.append(0)
        header.append(0)
        header.appendInt64(partitionStart)
        header.appendInt64(partitionDuration)
        header.appendUInt64(sequence)
        try output.write(header.bytes)
    }

    /// `000000000042.tsf`: zero-padded so names sort by sequence.
    static func fileName(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 12 - digits.count)) + digits + PartitionFile.fileExtension
    }

    var isEmpty: Bool { entries.isEmpty && rollups.isEmpty }

    /// Adds a block, followed by its 1-minute roll-up buckets when given (raw files of flushed data).
    mutating func addBlock(
        series: UInt32, flags: UInt8, block: FloatBlock, minTime: Int64, maxTime: Int64, lastValue: Double, marker: WALMarker,
        minuteRollups: [RollupBucket]? = nil
    ) throws(TimeSeriesError) {
        let offset = Int(output.offset)
        try output.write(block.bytes)
        let checksum = CRC32C.checksum(block.bytes)
        var rollupLength = 0
        if let minuteRollups {
            let chunk = RollupChunk.encode(minuteRollups, resolution: .minute, base: Rollup.align(minTime, to: RollupResolution.minute.milliseconds))
            var framed = ByteWriter(capacity: chunk.count + 4)
            framed.appendUInt32(CRC32C.checksum(chunk))
            framed.append(contentsOf: chunk)
            try output.write(framed.bytes)
            rollupLength = framed.count
        }
        entries.append(BlockEntry(
            series: series, flags: flags, count: block.count, length: block.bytes.count, offset: offset,
            minTime: minTime, maxTime: maxTime, lastValue: lastValue, marker: marker, rollupLength: rollupLength, checksum: checksum))
        pointCount += Int64(block.count)
        maxMarker = max(maxMarker, marker.position)
    }

    mutating func addRollup(series: UInt32, resolution: RollupResolution, buckets: [RollupBucket]) throws(TimeSeriesError) {
        guard let first = buckets.first, let last = buckets.last else { return }
        let bytes = RollupChunk.encode(buckets, resolution: resolution, base: first.start)
        let offset = Int(output.offset)
        try output.write(bytes)
        rollups.append(RollupEntry(
            series: series, resolution: resolution.rawValue, bucketCount: buckets.count, length: bytes.count, offset: offset,
            minStart: first.start, maxStart: last.start, checksum: CRC32C.checksum(bytes)))
    }

    /// Writes the index and footer and fsyncs the temporary file; returns the file's size. `precedence`
    /// defaults to the sequence number.
    mutating func finish(closedBoundary: Int64, supersedes: [UInt64] = [], covered: [Int64] = [], precedence: UInt64? = nil, level: Int = 0) throws(TimeSeriesError) -> Int64 {
        let sortedEntries = entries.indices.sorted { (entries[$0].series, $0) < (entries[$1].series, $1) }.map { entries[$0] }
        let sortedRollups = rollups.indices.sorted {
            (rollups[$0].resolution, rollups[$0].series, $0) < (rollups[$1].resolution, rollups[$1].series, $1)
        }.map { rollups[$0] }
        let metadataOffset = output.offset
        var metadata = ByteWriter(capacity: sortedEntries.count * PartitionFile.entrySize + sortedRollups.count * PartitionFile.rollupEntrySize + 64)
        for entry in sortedEntries {
            metadata.appendUInt32(entry.series)
            metadata.appendUInt32(min(entry.marker.ordinal, BlockEntry.ordinalLimit) << 8 | UInt32(entry.flags))
            metadata.appendUInt32(UInt32(entry.count))
            metadata.appendUInt32(UInt32(entry.length))
            metadata.appendUInt64(UInt64(entry.offset))
            metadata.appendInt64(entry.minTime)
            metadata.appendInt64(entry.maxTime)
            metadata.appendDouble(entry.lastValue)
            metadata.appendUInt64(entry.marker.position)
            metadata.appendUInt32(UInt32(entry.rollupLength))
            metadata.appendUInt32(entry.checksum)
        }
        for entry in sortedRollups {
            metadata.appendUInt32(entry.series)
            metadata.append(entry.resolution)
            metadata.append(0)
            metadata.append(0)
            metadata.append(0)
            metadata.appendUInt32(UInt32(entry.bucketCount))
            metadata.appendUInt32(UInt32(entry.length))
            metadata.appendUInt64(UInt64(entry.offset))
            metadata.appendInt64(entry.minStart)
            metadata.appendInt64(entry.maxStart)
            metadata.appendUInt32(entry.checksum)
            metadata.appendUInt32(0)
        }
        for sequence in supersedes { metadata.appendUInt64(sequence) }
        for start in covered { metadata.appendInt64(start) }
        let metadataCRC = CRC32C.checksum(metadata.bytes)
        var footer = ByteWriter(capacity: PartitionFile.footerSize)
        footer.appendUInt32(UInt32(sortedEntries.count))
        footer.appendUInt32(UInt32(sortedRollups.count))
        footer.appendUInt32(UInt32(supersedes.count))
        footer.appendUInt32(UInt32(covered.count))
        footer.appendUInt64(UInt64(metadataOffset))
        footer.appendInt64(closedBoundary)
        footer.appendUInt64(UInt64(pointCount))
        footer.appendUInt64(maxMarker)
        footer.appendUInt64(precedence ?? sequence)
        footer.appendUInt32(UInt32(level))
        footer.appendUInt32(metadataCRC)
        footer.appendUInt32(CRC32C.checksum(footer.bytes))
        footer.appendUInt32(PartitionFile.magic)
        try output.write(metadata.bytes)
        try output.write(footer.bytes)
        try output.finish()
        return output.offset
    }

    /// Renames the finished temporary file to its final name (the caller fsyncs the directory).
    func commit() throws(TimeSeriesError) {
        try StoreFileIO.rename(temporaryPath, path)
    }

    /// Removes the temporary file after a failure.
    func abandon() {
        try? StoreFileIO.remove(temporaryPath)
    }
}
