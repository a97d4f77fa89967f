import HubStorage

/// A `TwinStore` of one backend with the means to close it.
public struct OpenedTwinStore: Sendable {
    /// The store under test.
    public var store: any TwinStore
    /// Closes the backend (the database); the in-memory backend has nothing to close.
    public var close: @Sendable () async throws -> Void

    public init(store: any TwinStore, close: @escaping @Sendable () async throws -> Void = {}) {
        self.store = store
        self.close = close
    }
}

/// A twin storage backend prepared for `TwinStoreConformance`.
///
/// `open()` gives an empty store the first time; after `close` of the previous instance it opens the
/// *same* data again, which is how the suite checks that twins survive a restart. Backends that keep
/// nothing across a close (in-memory) return the same instance each time.
public protocol TwinStoreFixture: Sendable {
    /// A short name for test output (`in-memory`, `sqlite`).
    var name: String { get }
    func open() async throws -> OpenedTwinStore
    /// Closes whatever it opened that is still open and removes what it created.
    func tearDown() async throws
}

/// The in-memory backend: the reference the others must match.
public struct InMemoryTwinStoreFixture: TwinStoreFixture {
    public let name = "in-memory"
    private let opened = OpenedTwinStore(store: InMemoryTwinStore())

    public init() {}
    public func open() async throws -> OpenedTwinStore { opened }
    public func tearDown() async throws {}
}
