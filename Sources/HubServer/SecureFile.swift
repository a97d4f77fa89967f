import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small file-system helpers for secrets and the data directory.
enum SecureFile {
    /// Writes `bytes` to `path` atomically (a temporary file in the same directory, fsynced, then
    /// renamed over `path`) with permissions `mode`, whatever the umask.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t) throws(SecureFile.Errno) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw currentErrno() }
        var ok = fchmod(fd, mode) == 0
        var offset = 0
        while ok && offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                ok = false
            } else {
                offset += written
            }
        }
        if ok { ok = fsync(fd) == 0 }
        let error = currentErrno()
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            let renameError = ok ? currentErrno() : error
            unlink(temporary)
            throw renameError
        }
    }

    /// Creates `path` (and missing parents) with `mode` if it does not exist.
    static func createDirectory(_ path: String, mode: mode_t) throws(SecureFile.Errno) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw Errno(ENOTDIR) }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path {
            try createDirectory(parent, mode: 0o755)
        }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw currentErrno() }
        chmod(path, mode)  // mkdir applies the umask
    }

    /// The file's bytes; errors are errno codes.
    static func readAll(_ path: String) throws(SecureFile.Errno) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw currentErrno() }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw currentErrno()
            }
            if n == 0 { return result }
            result.append(contentsOf: chunk[0..<n])
            if result.count > 16 * 1024 * 1024 { throw Errno(EFBIG) }  // no PEM file is this large
        }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The permission bits of `path`, or nil.
    static func mode(of path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o7777
    }

    /// A failed system call's errno.
    struct Errno: Error, Sendable, Hashable {
        var code: Int32
        init(_ code: Int32) { self.code = code }
    }

    static func currentErrno() -> Errno { Errno(errno) }

    /// "permission denied", "no such file or directory" …
    static func describe(_ error: Errno) -> String {
        String(cString: strerror(error.code)).lowercased()
    }
}
