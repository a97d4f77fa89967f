#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The low-level file operations the log uses, as a protocol so tests can inject failures (ENOSPC on
/// write, EIO on fsync) without a full disk.
///
/// Why plain POSIX and not NIO's `NonBlockingFileIO`: the log has its own writer thread per partition,
/// which is exactly what `NonBlockingFileIO` would hop to, so a thread pool adds a hop per batch and
/// buys nothing; and the log needs `fdatasync`, `ftruncate` and directory fsync, which `NonBlockingFileIO`
/// does not offer. Readers call these from the caller's context (see `EventLog.read`); they are short
/// `pread`s on the page cache in the common case.
public protocol LogFileIO: Sendable {
    /// Opens `path` read-write (creating it with mode 0600 when `create`), or read-only.
    func open(_ path: String, create: Bool, readOnly: Bool) throws(EventLogError) -> Int32
    func close(_ fd: Int32)
    /// Writes all of `bytes` at `position` (pwrite, retried on short writes and EINTR).
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at position: Int64) throws(EventLogError)
    /// Reads up to `buffer.count` bytes at `position`; returns how many (0 at end of file).
    func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws(EventLogError) -> Int
    /// `fdatasync`: the file's data and the metadata needed to read it back (its size) are on disk.
    func sync(_ fd: Int32) throws(EventLogError)
    func truncate(_ fd: Int32, to size: Int64) throws(EventLogError)
    func size(_ fd: Int32) throws(EventLogError) -> Int64
    /// fsyncs a directory, making created, renamed and deleted entries in it durable.
    func syncDirectory(_ path: String) throws(EventLogError)
    /// Creates `path` (mode 0700) if missing; parents must exist.
    func makeDirectory(_ path: String) throws(EventLogError)
    /// The names in `directory` (without `.` and `..`).
    func list(_ directory: String) throws(EventLogError) -> [String]
    /// Unlinks `path`; a missing file is not an error.
    func remove(_ path: String) throws(EventLogError)
    func rename(_ from: String, _ to: String) throws(EventLogError)
}

/// `LogFileIO` over the POSIX calls.
public struct POSIXLogFileIO: LogFileIO {
    public init() {}

    /// Maps errno to the module's error: ENOSPC/EDQUOT are `.diskFull`, the rest `.io`.
    static func error(_ operation: String, _ code: Int32 = errno) -> EventLogError {
        let text = String(cString: strerror(code)).lowercased()
        if code == ENOSPC || code == EDQUOT { return EventLogError(.diskFull, "\(operation): \(text)") }
        return EventLogError(.io, "\(operation): \(text)")
    }

    public func open(_ path: String, create: Bool, readOnly: Bool) throws(EventLogError) -> Int32 {
        let flags = (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (create ? O_CREAT : 0)
        let fd = Glibc.open(path, flags, 0o600)
        guard fd >= 0 else { throw Self.error("open") }
        return fd
    }

    public func close(_ fd: Int32) { _ = Glibc.close(fd) }

    public func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at position: Int64) throws(EventLogError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(position) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.error("write")
            }
            if n == 0 { throw Self.error("write", ENOSPC) }
            done += n
        }
    }

    public func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws(EventLogError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(position) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.error("read")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    public func sync(_ fd: Int32) throws(EventLogError) {
        #if os(Linux)
        guard fdatasync(fd) == 0 else { throw Self.error("fdatasync") }
        #else
        guard fsync(fd) == 0 else { throw Self.error("fsync") }
        #endif
    }

    public func truncate(_ fd: Int32, to size: Int64) throws(EventLogError) {
        guard ftruncate(fd, off_t(size)) == 0 else { throw Self.error("ftruncate") }
    }

    public func size(_ fd: Int32) throws(EventLogError) -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Self.error("fstat") }
        return Int64(info.st_size)
    }

    public func syncDirectory(_ path: String) throws(EventLogError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.error("open directory") }
        defer { _ = Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw Self.error("fsync directory") }
    }

    public func makeDirectory(_ path: String) throws(EventLogError) {
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw Self.error("mkdir") }
    }

    public func list(_ directory: String) throws(EventLogError) -> [String] {
        guard let dir = opendir(directory) else { throw Self.error("opendir") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func remove(_ path: String) throws(EventLogError) {
        if unlink(path) != 0 && errno != ENOENT { throw Self.error("unlink") }
    }

    public func rename(_ from: String, _ to: String) throws(EventLogError) {
        guard Glibc.rename(from, to) == 0 else { throw Self.error("rename") }
    }
}

extension LogFileIO {
    /// `write` for an array (keeps typed throws through `withUnsafeBytes`, which only rethrows).
    public func write(_ fd: Int32, _ bytes: [UInt8], at position: Int64) throws(EventLogError) {
        let result: Result<Void, EventLogError> = bytes.withUnsafeBytes { raw in
            Result { () throws(EventLogError) in try write(fd, raw, at: position) }
        }
        try result.get()
    }

    /// `read` of up to `count` bytes into the start of `buffer`.
    public func read(_ fd: Int32, into buffer: inout [UInt8], count: Int, at position: Int64) throws(EventLogError) -> Int {
        let result: Result<Int, EventLogError> = buffer.withUnsafeMutableBytes { raw in
            Result { () throws(EventLogError) -> Int in
                try read(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<min(count, raw.count)]), at: position)
            }
        }
        return try result.get()
    }
}

extension Duration {
    /// Whole milliseconds (truncated).
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
    /// Whole nanoseconds (truncated; saturates far beyond any batch latency).
    var nanoseconds: Int64 { components.seconds &* 1_000_000_000 &+ components.attoseconds / 1_000_000_000 }
}
