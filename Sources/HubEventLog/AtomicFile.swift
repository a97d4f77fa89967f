/// Small files replaced atomically: written to a temporary name, fsynced, renamed over the target, and
/// the directory fsynced, so a crash leaves either the old or the new contents.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String, io: any LogFileIO) throws(EventLogError) {
        let temporary = path + ".tmp"
        let fd = try io.open(temporary, create: true, readOnly: false)
        do throws(EventLogError) {
            try io.truncate(fd, to: 0)
            try io.write(fd, bytes, at: 0)
            try io.sync(fd)
        } catch {
            io.close(fd)
            try? io.remove(temporary)
            throw error
        }
        io.close(fd)
        try io.rename(temporary, path)
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        try io.syncDirectory(directory.isEmpty ? "." : directory)
    }
}
