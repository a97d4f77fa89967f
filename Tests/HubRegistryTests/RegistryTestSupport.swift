import HubAuth
import HubCore
import HubRegistry
import HubStorage
import HubStorageSQLite
import HubTestKit
import Logging
import Synchronization
import Testing

/// The storage backends every registry test runs against.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inMemory = "in-memory"
    case sqlite = "SQLite"

    var testDescription: String { rawValue }

    /// A registry over fresh stores of this backend (optionally wrapped), with a manual clock.
    func make(
        configuration: DeviceRegistry.Configuration = .testDefaults,
        wrap: (any RegistryStore) -> any RegistryStore = { $0 }
    ) throws -> TestRegistry {
        let clock = TestClock()
        switch self {
        case .inMemory:
            let stores = IdentityStores(
                registry: InMemoryRegistryStore(), policies: InMemoryAccessPolicyStore(),
                certificates: InMemoryCertificateStore(), users: InMemoryUserStore())
            return TestRegistry(stores: stores, wrapped: wrap(stores.registry), configuration: configuration, clock: clock, cleanUp: {})
        case .sqlite:
            let directory = try TemporaryDirectory()
            let database = try SQLiteDatabase(
                path: SQLiteDatabase.path(inDataDirectory: directory.path), durability: .process,
                migrations: SQLiteBrokerPersistence.migrations + SQLiteRegistrySchema.migrations)
            let sealer = MasterKeySealer(current: .generate())
            let stores = IdentityStores(
                registry: SQLiteRegistryStore(database: database, sealer: sealer),
                policies: SQLiteAccessPolicyStore(database: database, sealer: sealer),
                certificates: SQLiteCertificateStore(database: database), users: SQLiteUserStore(database: database))
            return TestRegistry(
                stores: stores, wrapped: wrap(stores.registry), configuration: configuration, clock: clock,
                cleanUp: {
                    try? database.close()
                    directory.remove()
                })
        }
    }
}

/// A registry under test with its stores (for looking underneath it) and clock.
struct TestRegistry: Sendable {
    let registry: DeviceRegistry
    let stores: IdentityStores
    let clock: TestClock
    let cleanUp: @Sendable () -> Void

    init(
        stores: IdentityStores, wrapped: any RegistryStore, configuration: DeviceRegistry.Configuration, clock: TestClock,
        cleanUp: @escaping @Sendable () -> Void
    ) {
        self.stores = stores
        self.clock = clock
        self.cleanUp = cleanUp
        var logger = Logger(label: "test.registry")
        logger.logLevel = .critical
        registry = DeviceRegistry(
            store: wrapped, policies: stores.policies, certificates: stores.certificates, users: stores.users,
            configuration: configuration, logger: logger, now: { clock.now() })
    }
}

extension DeviceRegistry.Configuration {
    /// The defaults, with a cheap scrypt (N = 2^4): OWASP's N = 2^17 costs seconds per hash in a debug
    /// build, and a suite full of them starves the timing-sensitive tests running beside it.
    static var testDefaults: DeviceRegistry.Configuration {
        var configuration = DeviceRegistry.Configuration()
        configuration.passwordHashing = PasswordHasher.Parameters(logN: 4, r: 8, p: 1)
        return configuration
    }
}

/// Wall-clock time that moves only when told.
final class TestClock: Sendable {
    private let millis = Mutex<Int64>(WallClock.nowMillis())
    func now() -> Timestamp { Timestamp(rawValue: millis.withLock { $0 }) }
    func advance(milliseconds: Int64) { millis.withLock { $0 += milliseconds } }
}

/// Collects what observers receive.
final class ChangeLog: Sendable {
    private let entries = Mutex<[RegistryChange]>([])
    var changes: [RegistryChange] { entries.withLock { $0 } }
    func append(_ change: RegistryChange) { entries.withLock { $0.append(change) } }
}

/// Shorthands.
func id(_ raw: String) -> DeviceID { DeviceID(rawValue: raw)! }
func moduleID(_ raw: String) -> ModuleID { ModuleID(rawValue: raw)! }
func key(_ byte: UInt8, count: Int = 32) -> SharedAccessKey { try! SharedAccessKey(bytes: Array(repeating: byte, count: count)) }

/// Expects `body` to throw a `RegistryError` with `code`; returns it.
@discardableResult
func expectRegistryError(
    _ code: RegistryError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async -> RegistryError? {
    let error = await #expect(throws: RegistryError.self, sourceLocation: sourceLocation) { try await body() }
    #expect(error?.code == code, "expected \(code), got \(error.map { "\($0)" } ?? "nothing")", sourceLocation: sourceLocation)
    return error
}

extension DeviceAuthentication {
    var keys: (primary: SharedAccessKey, secondary: SharedAccessKey)? {
        if case .sas(let p, let s) = self { return (p, s) }
        return nil
    }
}
