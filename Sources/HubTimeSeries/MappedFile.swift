#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor, closed when the last reference goes (so a query holding a file keeps reading it
/// after compaction unlinks it).
final class FileHandleBox: @unchecked Sendable {
    let fd: Int32
    let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { _ = close(fd) }
}

/// A whole file mapped read-only. Only immutable files are mapped (sealed block and roll-up files are
/// never modified after their rename), so reads never see a change or a shrink.
final class MappedFile: @unchecked Sendable {
    let path: String
    let base: UnsafeRawPointer
    let count: Int

    init(path: String) throws(TimeSeriesError) {
        let file = try StoreFileIO.open(path, create: false, readOnly: true)
        let size = Int(try StoreFileIO.size(file))
        self.path = path
        self.count = size
        if size == 0 {
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 8))
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, file.fd, 0)
        guard let address, address != MAP_FAILED else { throw StoreFileIO.failure("mmap", path) }
        base = UnsafeRawPointer(address)
    }

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    deinit {
        if count == 0 {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        } else {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        }
    }
}
