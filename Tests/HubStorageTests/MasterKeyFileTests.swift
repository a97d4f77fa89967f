import Foundation
import HubCore
import HubStorage
import HubTestKit
import Testing

@Suite("master.key file")
struct MasterKeyFileTests {
    @Test("created on first use with mode 0600, then loaded unchanged")
    func createThenLoad() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let created = try MasterKey.loadOrCreate(dataDirectory: directory.path)
        let path = MasterKey.path(inDataDirectory: directory.path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == created.fileLine + "\n")
        let loaded = try MasterKey.loadOrCreate(dataDirectory: directory.path)
        #expect(loaded.id == created.id)
        #expect(loaded.base64 == created.base64)
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [MasterKey.fileName])
        // What it seals, the reloaded key opens.
        let sealed = try MasterKeySealer(current: created).seal([1, 2, 3], context: "c")
        #expect(try MasterKeySealer(current: loaded).open(sealed, context: "c") == [1, 2, 3])
    }

    @Test("a key file group or others can access is refused (S10)", arguments: [0o644, 0o640, 0o604, 0o660, 0o606, 0o777])
    func insecureMode(mode: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let key = try MasterKey.loadOrCreate(dataDirectory: directory.path)
        let path = MasterKey.path(inDataDirectory: directory.path)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        let error = #expect(throws: StorageError.self) { try MasterKey.loadOrCreate(dataDirectory: directory.path) }
        #expect(error?.code == .insecure)
        #expect(error?.message.contains("chmod 600") == true)
        #expect(error?.message.contains(key.base64) == false)
        // Fixed permissions: accepted again (0400 too).
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: path)
        #expect(try MasterKey.loadOrCreate(dataDirectory: directory.path).id == key.id)
    }

    @Test("a damaged key file is .corrupt, not replaced")
    func damaged() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = MasterKey.path(inDataDirectory: directory.path)
        let other = MasterKey.generate()
        for content in ["", "garbage\n", "deadbeef:\(other.base64)\n"] {
            _ = FileManager.default.createFile(atPath: path, contents: Data(content.utf8), attributes: [.posixPermissions: 0o600])
            let error = #expect(throws: StorageError.self) { try MasterKey.loadOrCreate(dataDirectory: directory.path) }
            #expect(error?.code == .corrupt)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == content, "the file is left as it was")
            try FileManager.default.removeItem(atPath: path)
        }
        // A key written by an operator as bare base64 is accepted.
        _ = FileManager.default.createFile(atPath: path, contents: Data(other.base64.utf8), attributes: [.posixPermissions: 0o600])
        #expect(try MasterKey.loadOrCreate(dataDirectory: directory.path).id == other.id)
    }

    @Test("a missing data directory is .unavailable")
    func missingDirectory() throws {
        let directory = try TemporaryDirectory()
        directory.remove()
        let error = #expect(throws: StorageError.self) { try MasterKey.loadOrCreate(dataDirectory: directory.path) }
        #expect(error?.code == .unavailable)
    }
}
