import MQTTBroker

/// A `BrokerPersistence` backend prepared for the conformance suite.
///
/// `open()` opens the store: the first call gives an empty store, and a call after `close()` of the
/// previous instance opens the *same* store again, which is how the suite checks that data survives a
/// restart. Backends that keep nothing across a close (in-memory) return the same instance each time.
public protocol BrokerPersistenceFixture: Sendable {
    /// A short name for test output (`in-memory`, `sqlite`).
    var name: String { get }
    func open() async throws -> any BrokerPersistence
    /// Removes whatever the fixture created (temporary directories).
    func tearDown() async throws
}

/// The in-memory backend: the reference the other backends must match.
public struct InMemoryBrokerPersistenceFixture: BrokerPersistenceFixture {
    public let name = "in-memory"
    private let persistence = InMemoryBrokerPersistence()

    public init() {}
    public func open() async throws -> any BrokerPersistence { persistence }
    public func tearDown() async throws {}
}
