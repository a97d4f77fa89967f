import HubEventLog
/// Reading the write-ahead log back when the store opens.
extension TimeSeriesWAL {
    /// What a scan found.
    struct Scan {
        /// The segments kept (valid records only), oldest first.
        var segments: [(segment: UInt32, size: Int64)] = []
        /// Bytes cut from the end of the last segment (an interrupted write: normal after a crash).
        var truncatedBytes: Int64 = 0
        /// Records lost to damage in the middle of the log (the rest of the log after them is dropped).
        var damagedSegments = 0
        var records = 0
    }

    /// Reads every segment in order and calls `body` with each valid record's payload and position. A bad
    /// record (length, checksum) ends the log there: the file is truncated at it and later segments are
    /// removed. Only the last segment can legitimately end torn, since a segment is fsynced before the next
    /// one starts; damage elsewhere is counted in `damagedSegments`.
    static func recover(directory: String, _ body: (UnsafeRawBufferPointer, UInt64) throws(TimeSeriesError) -> Void) throws(TimeSeriesError) -> Scan {
        var numbers: [UInt32] = []
        for name in try StoreFileIO.list(directory) {
            if name.hasSuffix(".tmp") {
                try StoreFileIO.remove(directory + "/" + name)
                continue
            }
            guard name.hasSuffix(fileExtension), let number = UInt32(name.dropLast(fileExtension.count)) else { continue }
            numbers.append(number)
        }
        numbers.sort()
        var scan = Scan()
        var stopped = false
        for (index, number) in numbers.enumerated() {
            let path = directory + "/" + fileName(number)
            if stopped {
                try StoreFileIO.remove(path)
                continue
            }
            let bytes = try StoreFileIO.readAll(path)
            let isLast = index == numbers.count - 1
            let valid: Int64 = try withBytes(bytes) { (raw) throws(TimeSeriesError) -> Int64 in
                guard raw.count >= Int(headerSize), raw.baseAddress!.uint32(at: 0) == magic,
                      raw.baseAddress!.uint32(at: 8) == number else { return 0 }
                var offset = Int(headerSize)
                while raw.count - offset >= frameSize {
                    let length = Int(raw.baseAddress!.uint32(at: offset))
                    let crc = raw.baseAddress!.uint32(at: offset + 4)
                    guard length > 0, length <= maximumRecordBytes, raw.count - offset - frameSize >= length else { break }
                    let payload = UnsafeRawBufferPointer(rebasing: raw[(offset + frameSize)..<(offset + frameSize + length)])
                    guard CRC32C.checksum(payload) == crc else { break }
                    try body(payload, WALMarker.position(segment: number, offset: Int64(offset)))
                    scan.records += 1
                    offset += frameSize + length
                }
                return Int64(offset)
            }
            if valid == 0 {
                // Not even a header: a segment whose creation was interrupted.
                try StoreFileIO.remove(path)
                if !isLast { scan.damagedSegments += 1 }
                stopped = true
                continue
            }
            if valid < Int64(bytes.count) {
                let file = try StoreFileIO.open(path, create: false)
                try StoreFileIO.truncate(file, to: valid)
                try StoreFileIO.sync(file)
                if isLast { scan.truncatedBytes = Int64(bytes.count) - valid } else { scan.damagedSegments += 1 }
                stopped = !isLast
            }
            scan.segments.append((number, valid))
        }
        if scan.damagedSegments > 0 || scan.truncatedBytes > 0 { try StoreFileIO.syncDirectory(directory) }
        return scan
    }
}
