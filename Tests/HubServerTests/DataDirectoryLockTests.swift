import Foundation
import HubTestKit
import Logging
import Testing

@testable import HubServer

/// `DataDirectoryLock`: one process per data directory, released by the kernel however the holder ends.
@Suite("data directory lock")
struct DataDirectoryLockTests {
    @Test("a second lock on the same folder is refused, naming the holder, until the first is released")
    func exclusive() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let first = try DataDirectoryLock.acquire(dataDirectory: dir.path, purpose: "first holder")
        #expect(first.path == dir.appending(".lock"))
        #expect {
            try DataDirectoryLock.acquire(dataDirectory: dir.path, purpose: "second")
        } throws: { error in
            let error = error as? HubServerError
            return error?.code == .dataDirectoryInUse
                && error?.message == "data-dir \(dir.path) is in use by pid \(getpid()) (first holder) (\(dir.path)/.lock is locked); stop it first, or use another --data-dir"
        }
        first.release()
        first.release()  // idempotent
        let again = try DataDirectoryLock.acquire(dataDirectory: dir.path, purpose: "again")
        defer { again.release() }
        #expect(FileManager.default.fileExists(atPath: dir.appending(".lock")))
    }

    @Test("a missing data directory is a data-directory error, not 'in use'")
    func missingDirectory() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        #expect {
            try DataDirectoryLock.acquire(dataDirectory: dir.appending("nope"), purpose: "x")
        } throws: { error in
            (error as? HubServerError)?.code == .dataDirectory
        }
    }

    @Test("the offline event log refuses a locked data directory")
    func offlineEventLogRespectsTheLock() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.appending("events"), withIntermediateDirectories: true)
        try "1\n".write(toFile: dir.appending("events/partitions"), atomically: false, encoding: .utf8)
        let hub = try DataDirectoryLock.acquire(dataDirectory: dir.path, purpose: "meridian serve")
        #expect {
            try OfflineEventLog.open(dataDirectory: dir.path, logger: .init(label: "test"))
        } throws: { error in
            (error as? HubServerError)?.code == .dataDirectoryInUse
        }
        hub.release()
        let log = try OfflineEventLog.open(dataDirectory: dir.path, logger: .init(label: "test"))
        #expect(log.partitionCount == 1)
        log.close()
    }
}
