/// Streams a new file through a 1 MiB buffer (compaction output can be large; it is never held whole).
struct BufferedFileWriter {
    let file: FileHandleBox
    private var buffer: [UInt8] = []
    private var flushedBytes: Int64 = 0
    private static let bufferSize = 1 << 20

    init(creating path: String) throws(TimeSeriesError) {
        file = try StoreFileIO.open(path, create: true)
        try StoreFileIO.truncate(file, to: 0)
        buffer.reserveCapacity(Self.bufferSize)
    }

    /// Bytes written so far (the offset of the next byte).
    var offset: Int64 { flushedBytes + Int64(buffer.count) }

    mutating func write(_ bytes: [UInt8]) throws(TimeSeriesError) {
        if buffer.count + bytes.count > Self.bufferSize { try flush() }
        if bytes.count >= Self.bufferSize {
            try StoreFileIO.write(file, bytes, at: flushedBytes)
            flushedBytes += Int64(bytes.count)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    mutating func flush() throws(TimeSeriesError) {
        guard !buffer.isEmpty else { return }
        try StoreFileIO.write(file, buffer, at: flushedBytes)
        flushedBytes += Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered and fsyncs.
    mutating func finish() throws(TimeSeriesError) {
        try flush()
        try StoreFileIO.sync(file)
    }
}
