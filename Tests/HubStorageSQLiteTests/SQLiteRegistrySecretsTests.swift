import Foundation
import GRDB
import HubCore
import HubStorage
import HubStorageSQLite
import HubTestKit
import Testing

/// Keys at rest in the SQLite registry (reliability plan S10): never in the file in any encoding,
/// bound to their row and slot, and readable only with the right master key.
@Suite("SQLite registry secrets")
struct SQLiteRegistrySecretsTests {
    private typealias S = IdentitySamples

    @Test("a dump of the database files contains no key in raw, base64, URL-encoded or hex form (S10)")
    func dumpHasNoKeys() async throws {
        let fixture = try SQLiteIdentityStoreFixture()
        defer { fixture.removeAll() }
        let stores = try await fixture.open()
        var keys: [SharedAccessKey] = []
        for i in 0..<20 {
            let device = S.device(S.id("device-\(i)"))
            try await stores.registry.insertDevice(device)
            if case .sas(let p, let s) = device.authentication { keys += [p, s] }
            let module = S.module(device.id, "module-\(i)")
            try await stores.registry.insertModule(module)
            if case .sas(let p, let s) = module.authentication { keys += [p, s] }
        }
        // A supplied key of the shortest and the longest accepted length, too.
        let short = try SharedAccessKey(bytes: Array(repeating: 0x5A, count: 16))
        let long = try SharedAccessKey(bytes: (0..<64).map { UInt8($0 * 3 & 0xFF) })
        try await stores.registry.insertDevice(
            Device(id: S.id("supplied"), generationID: "g", etag: "e", authentication: .sas(primaryKey: short, secondaryKey: long)))
        keys += [short, long]
        let policies = AccessPolicy.defaults()
        try await stores.policies.savePolicies(policies)
        keys += policies.flatMap { [$0.primaryKey, $0.secondaryKey] }
        // Still readable through the store.
        #expect(try await stores.registry.device(S.id("supplied"))?.authentication == .sas(primaryKey: short, secondaryKey: long))

        // Look at the files both while open (WAL not yet checkpointed) and after closing.
        var dumps = [try Self.readAllFiles(in: fixture.directory.path)]
        try await stores.close()
        dumps.append(try Self.readAllFiles(in: fixture.directory.path))

        for dump in dumps {
            #expect(dump.count > 10_000, "the dump should hold the database")
            // The search itself works: identifiers stored in plain text are found.
            #expect(Self.contains(dump, Array("device-19".utf8)))
            #expect(Self.contains(dump, Array("registryReadWrite".utf8)))
            for key in keys {
                for (form, needle) in Self.encodings(of: key) {
                    #expect(!Self.contains(dump, needle), "a key appears in the database files (\(form))")
                }
            }
        }
    }

    @Test("a sealed key copied into another row does not open")
    func keyBoundToRow() async throws {
        let fixture = try SQLiteIdentityStoreFixture()
        defer { fixture.removeAll() }
        let database = try SQLiteDatabase(path: fixture.path, durability: .process, migrations: SQLiteIdentityStoreFixture.migrations)
        defer { try? database.close() }
        let store = SQLiteRegistryStore(database: database, sealer: fixture.sealer)
        try await store.insertDevice(S.device(S.id("a")))
        try await store.insertDevice(S.device(S.id("b")))
        try await database.write("copy a key") { db in
            try db.execute(
                sql: "UPDATE registry_device SET primary_key = (SELECT primary_key FROM registry_device WHERE device_id = 'a') WHERE device_id = 'b'")
        }
        _ = try await store.device(S.id("a"))
        await S.expectStorageError(.corrupt) { _ = try await store.device(S.id("b")) }
        // Swapping the slots of one row fails too.
        try await database.write("swap slots") { db in
            try db.execute(sql: "UPDATE registry_device SET primary_key = secondary_key, secondary_key = primary_key WHERE device_id = 'a'")
        }
        await S.expectStorageError(.corrupt) { _ = try await store.device(S.id("a")) }
    }

    @Test("another master key cannot read the keys; a rotation keeps the old key for opening")
    func masterKeyRotation() async throws {
        let fixture = try SQLiteIdentityStoreFixture()
        defer { fixture.removeAll() }
        let old = fixture.sealer
        let database = try SQLiteDatabase(path: fixture.path, durability: .process, migrations: SQLiteIdentityStoreFixture.migrations)
        defer { try? database.close() }
        let device = S.device(S.id("rotating"))
        try await SQLiteRegistryStore(database: database, sealer: old).insertDevice(device)
        try await SQLiteRegistryStore(database: database, sealer: old).insertDevice(
            Device(id: S.id("x509"), generationID: "g", etag: "e", authentication: .certificateAuthority))
        let policy = S.policy("owner")
        try await SQLiteAccessPolicyStore(database: database, sealer: old).savePolicies([policy])

        // A different master key: keys do not open (and nothing is invented); identities without keys still read.
        let stranger = MasterKeySealer(current: .generate())
        await S.expectStorageError(.corrupt) { _ = try await SQLiteRegistryStore(database: database, sealer: stranger).device(device.id) }
        await S.expectStorageError(.corrupt) { _ = try await SQLiteAccessPolicyStore(database: database, sealer: stranger).policies() }
        #expect(try await SQLiteRegistryStore(database: database, sealer: stranger).device(S.id("x509")) != nil)

        // Rotated: new current key, old one kept for opening.
        let rotated = MasterKeySealer(current: .generate(), previous: [old.current])
        let store = SQLiteRegistryStore(database: database, sealer: rotated)
        #expect(try await store.device(device.id) == device)
        #expect(try await SQLiteAccessPolicyStore(database: database, sealer: rotated).policies() == [policy])
        // A write re-seals under the new key, after which the old key alone no longer opens it.
        try await store.replaceDevice(device, expectedEtag: nil)
        let sealed = try await database.read("read sealed") { db in
            try Data.fetchOne(db, sql: "SELECT primary_key FROM registry_device WHERE device_id = 'rotating'")
        }
        #expect(MasterKeySealer.keyID(of: Array(try #require(sealed))) == rotated.current.id)
        #expect(!rotated.needsResealing(Array(sealed!)))
        await S.expectStorageError(.corrupt) { _ = try await SQLiteRegistryStore(database: database, sealer: old).device(device.id) }
    }

    @Test("the registry's migration applies after the broker's on an existing database")
    func migrationAppends() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = SQLiteDatabase.path(inDataDirectory: directory.path)
        let brokerOnly = try SQLiteDatabase(path: path, durability: .process, migrations: SQLiteBrokerPersistence.migrations)
        try brokerOnly.close()
        let both = try SQLiteDatabase(path: path, durability: .process, migrations: SQLiteIdentityStoreFixture.migrations)
        let applied = try await both.read("migrations") { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
        }
        #expect(applied == SQLiteIdentityStoreFixture.migrations.map(\.identifier))
        try both.close()
    }

    // MARK: helpers

    /// Every encoding of a key the plan names: raw bytes, base64, URL-encoded base64, lower- and upper-case hex.
    static func encodings(of key: SharedAccessKey) -> [(String, [UInt8])] {
        let base64 = key.base64
        let urlEncoded = base64.replacingOccurrences(of: "+", with: "%2B").replacingOccurrences(of: "/", with: "%2F")
            .replacingOccurrences(of: "=", with: "%3D")
        let hex = key.bytes.map { String(format: "%02x", $0) }.joined()
        return [
            ("raw", key.bytes), ("base64", Array(base64.utf8)), ("base64 without padding", Array(base64.trimmingCharacters(in: ["="]).utf8)),
            ("URL-encoded base64", Array(urlEncoded.utf8)), ("hex", Array(hex.utf8)), ("HEX", Array(hex.uppercased().utf8)),
        ]
    }

    static func readAllFiles(in directory: String) throws -> [UInt8] {
        var all: [UInt8] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(name))
            all += Array(data)
        }
        return all
    }

    /// Substring search with memchr/memcmp (a plain Swift loop is slow in debug builds on a few MB).
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        return haystack.withUnsafeBytes { h in
            needle.withUnsafeBytes { n in
                guard let base = h.baseAddress, h.count >= n.count else { return false }
                var offset = 0
                let lastStart = h.count - n.count
                while offset <= lastStart {
                    guard let hit = memchr(base + offset, Int32(first), lastStart - offset + 1) else { return false }
                    if memcmp(hit, n.baseAddress!, n.count) == 0 { return true }
                    offset = base.distance(to: UnsafeRawPointer(hit)) + 1
                }
                return false
            }
        }
    }
}
