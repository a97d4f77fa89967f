import HubCore
import HubEventLog
import Synchronization

/// The cold path: records as JSON lines in `<root>/<partition>/<YYYY>/<MM>/<DD>/<HH>/<mm>.jsonl`, by the
/// event's enqueued time (UTC), one file per partition and minute — files DuckDB, Spark or pandas read
/// as they are (`read_json('<root>/*/*/*/*/*/*.jsonl')`).
///
/// A batch is appended to its files and synced (file data, and new directory entries) before `deliver`
/// returns. On start the newest file of each partition is checked: a torn last line (a crash mid-write)
/// is cut off and the offset of its last whole record tells where to resume, so after a crash no record
/// is missing and none is written twice.
public final class FileStorageSink: EndpointSink {
    public let root: String
    private let io: any LogFileIO
    private let state = Mutex(State())

    private struct State {
        /// The file each partition is appending to (its path, descriptor and size).
        var open: [Int: (path: String, fd: Int32, size: Int64)] = [:]
    }

    public init(root: String, io: any LogFileIO = POSIXLogFileIO()) {
        self.root = root
        self.io = io
    }

    /// `<partition>/<YYYY>/<MM>/<DD>/<HH>/<mm>.jsonl` for an enqueued time.
    public static func relativePath(partition: Int, time: Timestamp) -> String {
        let millis = time.rawValue
        let days = millis >= 0 ? millis / 86_400_000 : (millis - 86_399_999) / 86_400_000
        let (year, month, day) = Timestamp.civilDate(daysSince1970: days)
        let minuteOfDay = (millis - days * 86_400_000) / 60_000
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let yyyy = String(year).count >= 4 ? String(year) : String(repeating: "0", count: 4 - String(year).count) + String(year)
        return "\(partition)/\(yyyy)/\(two(Int64(month)))/\(two(Int64(day)))/\(two(minuteOfDay / 60))/\(two(minuteOfDay % 60)).jsonl"
    }

    public func recoveredPositions(partitions: Int) async throws -> [Int: Int64] {
        var result: [Int: Int64] = [:]
        for partition in 0..<partitions {
            guard let newest = try newestFile(partition: partition) else { continue }
            if let offset = try repairAndReadLastOffset(newest) { result[partition] = offset + 1 }
        }
        return result
    }

    public func deliver(_ records: [RoutedRecord], partition: Int) async throws {
        try append(records.map { ($0.event.enqueuedTime, $0.json) }, partition: partition)
    }

    /// Appends JSON lines (without their newline) to the files of their times, and syncs them; for
    /// other writers than routing (stream job outputs).
    public func append(_ items: [(time: Timestamp, line: [UInt8])], partition: Int) throws {
        // Group consecutive records by file (one minute each), append each run in one write.
        var index = 0
        var touched: [Int32] = []
        while index < items.count {
            let path = Self.relativePath(partition: partition, time: items[index].time)
            var bytes: [UInt8] = []
            var end = index
            while end < items.count, Self.relativePath(partition: partition, time: items[end].time) == path {
                bytes.append(contentsOf: items[end].line)
                bytes.append(0x0A)
                end += 1
            }
            let fd: Int32, size: Int64
            do {
                (fd, size) = try file(partition: partition, relative: path)
            } catch {
                throw EndpointDeliveryError("file storage: \(error.message)")
            }
            do {
                try io.write(fd, bytes, at: size)
            } catch {
                // Nothing of this run counts: cut what may have been written, so a retry starts clean.
                try? io.truncate(fd, to: size)
                throw EndpointDeliveryError("file storage: \(error.message)")
            }
            state.withLock { $0.open[partition]?.size = size + Int64(bytes.count) }
            if !touched.contains(fd) { touched.append(fd) }
            index = end
        }
        do {
            for fd in touched { try io.sync(fd) }
        } catch {
            throw EndpointDeliveryError("file storage: \(error.message)")
        }
    }

    public func close() async {
        let open = state.withLock { state in
            defer { state.open = [:] }
            return state.open
        }
        for (_, file) in open { io.close(file.fd) }
    }

    // MARK: files

    /// The descriptor and size of `relative`, opening (and creating, with its directories) it when the
    /// partition moves to a new minute.
    private func file(partition: Int, relative: String) throws(EventLogError) -> (Int32, Int64) {
        let path = "\(root)/\(relative)"
        if let open = state.withLock({ $0.open[partition] }), open.path == path { return (open.fd, open.size) }
        try makeDirectories(for: relative)
        let fd = try io.open(path, create: true, readOnly: false)
        let size: Int64
        do {
            size = try io.size(fd)
        } catch {
            io.close(fd)
            throw error
        }
        let previous = state.withLock { state in
            defer { state.open[partition] = (path, fd, size) }
            return state.open[partition]
        }
        if let previous { io.close(previous.fd) }
        return (fd, size)
    }

    /// Creates `root` and the directories of `relative` that are missing, syncing each parent whose
    /// entries changed so the new file survives a power loss.
    private func makeDirectories(for relative: String) throws(EventLogError) {
        var components = relative.split(separator: "/").map(String.init)
        components.removeLast()
        var path = root
        try makeRoot()
        for component in components {
            let child = "\(path)/\(component)"
            if (try? io.list(child)) == nil {
                try io.makeDirectory(child)
                try io.syncDirectory(path)
            }
            path = child
        }
    }

    private func makeRoot() throws(EventLogError) {
        guard (try? io.list(root)) == nil else { return }
        var path = ""
        for component in root.split(separator: "/") {
            path += "/\(component)"
            if (try? io.list(path)) == nil { try io.makeDirectory(path) }
        }
    }

    /// The newest `.jsonl` file of a partition (names sort by time), if any.
    private func newestFile(partition: Int) throws -> String? {
        var path = "\(root)/\(partition)"
        for _ in 0..<4 {  // YYYY, MM, DD, HH
            guard let names = try? io.list(path), let last = names.filter({ Int($0) != nil }).sorted().last else { return nil }
            path += "/\(last)"
        }
        guard let files = try? io.list(path), let last = files.filter({ $0.hasSuffix(".jsonl") }).sorted().last else { return nil }
        return "\(path)/\(last)"
    }

    /// Cuts a torn last line off `path` and returns the `offset` of its last record.
    private func repairAndReadLastOffset(_ path: String) throws -> Int64? {
        let fd = try io.open(path, create: false, readOnly: false)
        defer { io.close(fd) }
        let size = try io.size(fd)
        guard size > 0 else { return nil }
        // Lines are far below 1 MiB (a message is at most 256 KiB, base64 grows it by a third).
        let window = min(size, 1 << 20)
        var buffer = [UInt8](repeating: 0, count: Int(window))
        let count = try io.read(fd, into: &buffer, count: Int(window), at: size - window)
        buffer.removeLast(buffer.count - count)
        guard let lastNewline = buffer.lastIndex(of: 0x0A) else {
            try io.truncate(fd, to: size - window)
            try io.sync(fd)
            return nil
        }
        if lastNewline != buffer.count - 1 {
            try io.truncate(fd, to: size - window + Int64(lastNewline) + 1)
            try io.sync(fd)
        }
        let lineStart = buffer[..<lastNewline].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        guard case .object(let object)? = try? JSONParser.parse(Array(buffer[lineStart..<lastNewline])),
            case .number(let text)? = object["offset"], let offset = Int64(text)
        else { return nil }
        return offset
    }
}
