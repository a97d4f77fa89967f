import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a data directory, so that two hubs, or a hub and an offline tool that writes
/// (`meridian eventlog dump` recovers the log, which may truncate a torn tail and rewrite indexes), never
/// open one data folder at once.
///
/// The lock is `flock(LOCK_EX | LOCK_NB)` on `<data-dir>/.lock` (created 0600 and never deleted:
/// deleting it would let a second process lock a new inode while the first still holds the old one).
/// `flock` belongs to the open file, so the kernel releases it when the process exits however it exits,
/// `kill -9` included: a stale lock file never blocks a restart. Locks taken through two opens conflict
/// even inside one process, which keeps this testable in-process. The holder writes its pid and
/// purpose into the file; a refused process quotes them in its error.
///
/// `flock` is advisory and local: it protects against Meridian's own processes on one machine, not
/// against other programs or a data directory shared over NFS.
public final class DataDirectoryLock: Sendable {
    /// The lock file's name inside the data directory.
    public static let fileName = ".lock"

    /// The lock file's path.
    public let path: String
    /// The locked descriptor; -1 once released.
    private let fd: Atomic<Int32>

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = Atomic(fd)
    }

    deinit { release() }

    /// Releases the lock (closes the file; the file stays). Idempotent. Call it when done rather than
    /// relying on `deinit`, which may run as soon as the last use of the reference.
    public func release() {
        let fd = fd.exchange(-1, ordering: .acquiringAndReleasing)
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)  // the holder's note, so it is never quoted after we are gone
        _ = close(fd)
    }

    /// Takes the lock on `dataDirectory` (which must exist) for `purpose` (e.g. `meridian serve`), or
    /// throws `.dataDirectoryInUse` at once, without waiting, naming the holder when it is known.
    public static func acquire(dataDirectory: String, purpose: String) throws(HubServerError) -> DataDirectoryLock {
        let path = dataDirectory + "/" + fileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw HubServerError(.dataDirectory, "cannot open \(path): \(SecureFile.describe(SecureFile.currentErrno()))")
        }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            let holder = holder(fd)
            _ = close(fd)
            if code == EWOULDBLOCK {
                let by = holder.map { " by \($0)" } ?? " by another process"
                throw HubServerError(
                    .dataDirectoryInUse,
                    "data-dir \(dataDirectory) is in use\(by) (\(path) is locked); stop it first, or use another --data-dir")
            }
            throw HubServerError(.dataDirectory, "cannot lock \(path): \(SecureFile.describe(SecureFile.Errno(code)))")
        }
        // Best effort: the note only improves another process's error message.
        let note = Array("pid \(getpid()) (\(purpose))\n".utf8)
        if ftruncate(fd, 0) == 0 { _ = note.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) } }
        return DataDirectoryLock(path: path, fd: fd)
    }

    /// The note the holder wrote (`pid 123 (meridian serve)`), if readable and plausible.
    private static func holder(_ fd: Int32) -> String? {
        var bytes = [UInt8](repeating: 0, count: 200)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: bytes[0..<n], as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        guard text.hasPrefix("pid "), text.allSatisfy({ $0.isASCII && !$0.isNewline }) else { return nil }
        return text
    }
}
