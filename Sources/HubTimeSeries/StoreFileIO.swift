#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX calls the store makes, with errors mapped to `TimeSeriesError`.
///
/// Plain POSIX (not NIO's file I/O) for the same reasons as the event log: the store needs `fdatasync`,
/// `ftruncate`, directory fsync and `mmap`, and its I/O runs on the caller's thread by design.
enum StoreFileIO {
    static func failure(_ operation: String, _ path: String, _ code: Int32 = errno) -> TimeSeriesError {
        TimeSeriesError.io(operation, path, String(cString: strerror(code)).lowercased())
    }

    /// Opens `path` read-write (creating it with mode 0600 when `create`) or read-only.
    static func open(_ path: String, create: Bool, readOnly: Bool = false) throws(TimeSeriesError) -> FileHandleBox {
        let flags = (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (create ? O_CREAT : 0)
        #if canImport(Darwin)
        let fd = Darwin.open(path, flags, 0o600)
        #else
        let fd = Glibc.open(path, flags, 0o600)
        #endif
        guard fd >= 0 else { throw failure("open", path) }
        return FileHandleBox(fd: fd, path: path)
    }

    /// Writes all of `bytes` at `position` (retried on short writes and EINTR).
    static func write(_ file: FileHandleBox, _ bytes: UnsafeRawBufferPointer, at position: Int64) throws(TimeSeriesError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(file.fd, bytes.baseAddress! + done, bytes.count - done, off_t(position) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("write", file.path)
            }
            if n == 0 { throw failure("write", file.path, ENOSPC) }
            done += n
        }
    }

    static func write(_ file: FileHandleBox, _ bytes: [UInt8], at position: Int64) throws(TimeSeriesError) {
        let result: Result<Void, TimeSeriesError> = bytes.withUnsafeBytes { raw in
            Result { () throws(TimeSeriesError) in try write(file, raw, at: position) }
        }
        try result.get()
    }

    /// Reads up to `buffer.count` bytes at `position`; returns how many (fewer only at the end of the file).
    static func read(_ file: FileHandleBox, into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws(TimeSeriesError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(file.fd, buffer.baseAddress! + done, buffer.count - done, off_t(position) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("read", file.path)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// The whole file's contents.
    static func readAll(_ path: String) throws(TimeSeriesError) -> [UInt8] {
        let file = try open(path, create: false, readOnly: true)
        let length = Int(try size(file))
        var bytes = [UInt8](repeating: 0, count: length)
        let result: Result<Int, TimeSeriesError> = bytes.withUnsafeMutableBytes { raw in
            Result { () throws(TimeSeriesError) -> Int in try read(file, into: raw, at: 0) }
        }
        let count = try result.get()
        if count < length { bytes.removeLast(length - count) }
        return bytes
    }

    /// `fdatasync` (`fsync` where there is none): the data and the size needed to read it back are durable.
    static func sync(_ file: FileHandleBox) throws(TimeSeriesError) {
        #if os(Linux)
        guard fdatasync(file.fd) == 0 else { throw failure("fdatasync", file.path) }
        #else
        guard fsync(file.fd) == 0 else { throw failure("fsync", file.path) }
        #endif
    }

    static func truncate(_ file: FileHandleBox, to size: Int64) throws(TimeSeriesError) {
        guard ftruncate(file.fd, off_t(size)) == 0 else { throw failure("ftruncate", file.path) }
    }

    static func size(_ file: FileHandleBox) throws(TimeSeriesError) -> Int64 {
        var info = stat()
        guard fstat(file.fd, &info) == 0 else { throw failure("fstat", file.path) }
        return Int64(info.st_size)
    }

    /// The size of `path`, or nil when it does not exist.
    static func size(of path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// fsyncs a directory, making entries created, renamed or removed in it durable.
    static func syncDirectory(_ path: String) throws(TimeSeriesError) {
        #if canImport(Darwin)
        let fd = Darwin.open(path, O_RDONLY | O_CLOEXEC)
        #else
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        #endif
        guard fd >= 0 else { throw failure("open directory", path) }
        defer { _ = close(fd) }
        guard fsync(fd) == 0 else { throw failure("fsync directory", path) }
    }

    /// Creates `path` and missing parents (mode 0700).
    static func makeDirectories(_ path: String) throws(TimeSeriesError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += prefix.isEmpty || prefix.hasSuffix("/") ? String(component) : "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw failure("mkdir", prefix) }
        }
    }

    /// The names in `directory` (without `.` and `..`); a missing directory has none.
    static func list(_ directory: String) throws(TimeSeriesError) -> [String] {
        guard let dir = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw failure("opendir", directory)
        }
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

    /// Unlinks `path`; a missing file is not an error.
    static func remove(_ path: String) throws(TimeSeriesError) {
        if unlink(path) != 0 && errno != ENOENT { throw failure("unlink", path) }
    }

    /// Removes an empty directory; a missing or non-empty one is left alone.
    static func removeDirectoryIfEmpty(_ path: String) {
        _ = rmdir(path)
    }

    static func rename(_ from: String, _ to: String) throws(TimeSeriesError) {
        guard posixRename(from, to) == 0 else { throw failure("rename", from) }
    }

    @inline(__always) private static func posixRename(_ from: String, _ to: String) -> Int32 {
        #if canImport(Darwin)
        return Darwin.rename(from, to)
        #else
        return Glibc.rename(from, to)
        #endif
    }

    /// Writes `bytes` to `path` atomically: a temporary name, fsync, rename, directory fsync.
    static func writeAtomically(_ bytes: [UInt8], to path: String, directory: String) throws(TimeSeriesError) {
        let temporary = path + ".tmp"
        let file = try open(temporary, create: true)
        try truncate(file, to: 0)
        try write(file, bytes, at: 0)
        try sync(file)
        try rename(temporary, path)
        try syncDirectory(directory)
    }
}

/// `withUnsafeBytes` keeping typed throws (the standard library's version only rethrows).
func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(TimeSeriesError) -> R) throws(TimeSeriesError) -> R {
    let result: Result<R, TimeSeriesError> = bytes.withUnsafeBytes { raw in
        Result { () throws(TimeSeriesError) -> R in try body(raw) }
    }
    return try result.get()
}
