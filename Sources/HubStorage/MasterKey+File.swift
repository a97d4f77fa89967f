#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension MasterKey {
    /// The key file's name inside the data directory.
    public static let fileName = "master.key"

    /// `<dataDirectory>/master.key`.
    public static func path(inDataDirectory directory: String) -> String {
        directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
    }

    /// Loads `<dataDirectory>/master.key`, creating it with a fresh key (mode 0600) when it does not exist.
    ///
    /// The file holds one line, `<id>:<base64 of 32 bytes>`. It is created without ever being visible
    /// half-written (written to a temporary file, fsynced, then hard-linked into place, which fails
    /// rather than overwrite a key another process created first). An existing file that group or others
    /// can read or write is refused with `.insecure`; `chmod 600` fixes it. A damaged file is `.corrupt`;
    /// a directory that cannot be written is `.unavailable`.
    public static func loadOrCreate(dataDirectory: String) throws(StorageError) -> MasterKey {
        let path = path(inDataDirectory: dataDirectory)
        if access(path, F_OK) == 0 { return try load(path: path) }
        let key = generate()
        do {
            try create(path, line: key.fileLine + "\n")
        } catch let error where error.errno == EEXIST {
            // Another process created it between our check and our link: use theirs.
            return try load(path: path)
        } catch {
            throw StorageError(.unavailable, "cannot create the master key file \(path): \(error)")
        }
        return key
    }

    /// Loads a key file written by `loadOrCreate` (or by an operator: `<id>:<base64>` or just the base64).
    /// `.insecure` when group or others may read or write it, `.corrupt` when it holds no valid key,
    /// `.unavailable` when it cannot be read.
    public static func load(path: String) throws(StorageError) -> MasterKey {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw StorageError(.unavailable, "cannot open the master key file \(path): \(FileError.current())")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw StorageError(.unavailable, "cannot inspect the master key file \(path): \(FileError.current())")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw StorageError(.corrupt, "the master key file \(path) is not a regular file")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw StorageError(
                .insecure,
                "the master key file \(path) is accessible by group or others (mode \(String(mode, radix: 8))); "
                    + "restrict it with `chmod 600 \(path)`")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StorageError(.unavailable, "cannot read the master key file \(path): \(FileError.current())")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            guard bytes.count <= 4096 else {
                throw StorageError(.corrupt, "the master key file \(path) is too large to be a key file")
            }
        }
        do {
            return try MasterKey(base64: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw StorageError(.corrupt, "the master key file \(path) does not hold a valid key: \(error.message)")
        }
    }

    /// Writes `line` to a temporary file (0600), fsyncs it, links it to `path` (failing with EEXIST if
    /// something is there), removes the temporary name and fsyncs the directory.
    private static func create(_ path: String, line: String) throws(FileError) {
        let temporary = path + ".tmp-\(getpid())"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileError.current() }
        defer { unlink(temporary) }
        var failure: FileError?
        if fchmod(fd, 0o600) != 0 { failure = FileError.current() }
        let bytes = Array(line.utf8)
        var offset = 0
        while failure == nil && offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = FileError.current()
            } else {
                offset += written
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = FileError.current() }
        close(fd)
        if let failure { throw failure }
        guard link(temporary, path) == 0 else { throw FileError.current() }
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }
}

/// An errno from a file operation, described by `strerror`.
struct FileError: Error, CustomStringConvertible {
    var errno: Int32
    static func current() -> FileError {
        #if canImport(Glibc)
        FileError(errno: Glibc.errno)
        #elseif canImport(Musl)
        FileError(errno: Musl.errno)
        #else
        FileError(errno: Darwin.errno)
        #endif
    }
    var description: String { String(cString: strerror(errno)) }
}
