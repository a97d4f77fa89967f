import HubCore
import HubStorage
import Logging
import Synchronization

/// Reads and writes twins for the service REST API and the device protocol, over a `TwinStore`.
///
/// The service keeps no twin state of its own, so it is a `Sendable` final class rather than an actor:
/// every write reads the twin, applies a pure change (`Twin+Updates`) and stores it with
/// compare-and-swap on the etag. A caller that named an etag (`If-Match`) and lost a race gets
/// `.preconditionFailed`; one that did not is retried on the fresh twin. A patch is therefore never
/// lost and never applied twice, and two writers with the same etag cannot both win.
///
/// It knows nothing of the registry: callers check that the identity exists and pass `Device`/`Module`
/// values where rendering needs them (`TwinJSON`). A twin missing for an identity is created empty at
/// version 1 on first use, and `deleteTwins(of:)` must be called when an identity is deleted.
public final class TwinService: Sendable {
    /// Settings of the twin service.
    public struct Configuration: Sendable {
        /// The document limits; Azure's by default.
        public var limits: TwinLimits = .azure
        /// How many times a write without `If-Match` is attempted when other writers keep changing the
        /// twin under it, before it fails with `.unavailable`. Each lost attempt means another write
        /// succeeded, so 100 covers any realistic burst on one twin.
        public var maximumWriteAttempts = 100

        public init() {}
    }

    /// Told about each stored desired-properties change: the identity, the notification body for the
    /// device (`TwinJSON.desiredNotification`: the applied patch, or the whole desired section after a
    /// replacement, with `$version` inside) and the new desired `$version`.
    ///
    /// Called synchronously after the change is stored, outside any lock, possibly concurrently for
    /// changes that raced; the version orders them (a receiver should drop a version not above the last
    /// one it passed on, as devices do). Keep it short: hand the body to a queue.
    public typealias DesiredObserver = @Sendable (_ identity: IdentityID, _ notificationBody: JSONValue, _ desiredVersion: Int64) -> Void

    /// Identifies a registered observer, for `removeDesiredObserver(_:)`.
    public struct ObserverToken: Hashable, Sendable {
        fileprivate let id: Int
    }

    private struct Observers {
        var nextID = 0
        var entries: [(id: Int, observer: DesiredObserver)] = []
    }

    private let store: any TwinStore
    private let configuration: Configuration
    private let clock: @Sendable () -> Timestamp
    private let logger: Logger
    private let observers = Mutex(Observers())
    private let changes = Atomic<UInt64>(0)
    private let changeObservers = Mutex<[@Sendable (IdentityID) -> Void]>([])

    /// - Parameters:
    ///   - clock: the wall clock for `$lastUpdated` (a fixed one in tests).
    public init(
        store: any TwinStore,
        configuration: Configuration = Configuration(),
        clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() },
        logger: Logger = Logger(label: "meridian.twins")
    ) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    // MARK: reads

    /// The twin of an existing device or module, created empty (version 1) if it has none yet.
    public func twin(of identity: IdentityID) async throws(TwinError) -> Twin {
        if let stored = try await stored(identity) { return stored }
        let empty = Twin.empty(for: identity, at: clock())
        do {
            try await store.insertTwin(empty)
            logger.debug("created an empty twin", metadata: ["identity": "\(identity)"])
            return empty
        } catch where error.code == .duplicate {
            // Another request created it first; theirs is the twin.
            guard let stored = try await stored(identity) else { throw TwinError(.notFound, "the twin was deleted while being created") }
            return stored
        } catch {
            throw TwinError.storage(error, while: "creating a twin")
        }
    }

    /// The twins of several existing identities, in the order given, creating missing ones (for query
    /// scans that walk the registry).
    public func twins(of identities: [IdentityID]) async throws(TwinError) -> [Twin] {
        var twins: [Twin] = []
        twins.reserveCapacity(identities.count)
        for identity in identities { twins.append(try await twin(of: identity)) }
        return twins
    }

    /// The body of a device's twin GET over MQTT (`TwinJSON.deviceTwin`).
    public func deviceTwinBody(of identity: IdentityID) async throws(TwinError) -> JSONValue {
        TwinJSON.deviceTwin(try await twin(of: identity))
    }

    // MARK: writes

    /// `PATCH /twins/{id}`: merges tags and desired properties (Azure Twin JSON). `ifMatch` is the
    /// `If-Match` header as sent (nil, `*` or `"*"` for any; quotes are stripped). Returns the twin
    /// after the patch; a desired change is announced to the observers.
    ///
    /// Throws `.invalid`, `.tooLarge`, `.preconditionFailed`, `.notFound` (deleted meanwhile) or
    /// `.unavailable`.
    public func updateTwin(of identity: IdentityID, patch: JSONValue, ifMatch: String?) async throws(TwinError) -> Twin {
        let limits = configuration.limits
        return try await write(identity, expectedEtag: Self.etag(fromIfMatch: ifMatch), operation: "updating a twin") { twin, time throws(TwinError) in
            try twin.applyingServicePatch(patch, at: time, limits: limits)
        }
    }

    /// `PUT /twins/{id}`: replaces tags and desired properties, keeps reported ones. Same `ifMatch`,
    /// result and errors as `updateTwin`.
    public func replaceTwin(of identity: IdentityID, with document: JSONValue, ifMatch: String?) async throws(TwinError) -> Twin {
        let limits = configuration.limits
        return try await write(identity, expectedEtag: Self.etag(fromIfMatch: ifMatch), operation: "replacing a twin") { twin, time throws(TwinError) in
            try twin.replacingFromService(document, at: time, limits: limits)
        }
    }

    /// A device's reported-properties patch over MQTT. Returns the new reported `$version` (for the
    /// `$iothub/twin/res/204/?$rid=…&$version=…` response); an empty patch returns the current one.
    ///
    /// Throws `.invalid`, `.tooLarge`, `.notFound` or `.unavailable`.
    public func updateReportedProperties(of identity: IdentityID, patch: JSONValue) async throws(TwinError) -> Int64 {
        let limits = configuration.limits
        return try await write(identity, expectedEtag: nil, operation: "updating reported properties") { twin, time throws(TwinError) in
            try twin.applyingReportedPatch(patch, at: time, limits: limits)
        }.reported.version
    }

    /// Deletes the twin of a deleted identity; for a device, its modules' twins too. Idempotent.
    public func deleteTwins(of identity: IdentityID) async throws(TwinError) {
        do {
            let count = try await store.deleteTwins(of: identity)
            changed(identity)
            logger.debug("deleted twins", metadata: ["identity": "\(identity)", "count": "\(count)"])
        } catch {
            throw TwinError.storage(error, while: "deleting twins")
        }
    }

    /// Grows by one at every stored change of any twin (tags, desired, reported, deletion): readers
    /// that cache twins (stream jobs' `twins` reference data) reload when it moved.
    public var changeCount: UInt64 { changes.load(ordering: .relaxed) }

    /// Calls `observer` with the identity of every twin stored or deleted from now on (after the change is
    /// stored; a deleted device's module twins are not listed one by one). Observers must be quick: they run
    /// on the writer's task.
    public func addChangeObserver(_ observer: @escaping @Sendable (IdentityID) -> Void) {
        changeObservers.withLock { $0.append(observer) }
    }

    private func changed(_ identity: IdentityID) {
        changes.add(1, ordering: .relaxed)
        for observer in changeObservers.withLock({ $0 }) { observer(identity) }
    }

    /// Twins in identity order after `after` (nil: from the first), at most `limit`, for scans.
    public func scan(after: IdentityID?, limit: Int, scope: TwinScope = .devices) async throws(TwinError) -> [Twin] {
        do {
            return try await store.twins(after: after, limit: limit, scope: scope)
        } catch {
            throw TwinError.storage(error, while: "scanning twins")
        }
    }

    // MARK: observers

    /// Registers `observer` for every desired-properties change from now on.
    @discardableResult
    public func addDesiredObserver(_ observer: @escaping DesiredObserver) -> ObserverToken {
        observers.withLock { observers in
            observers.nextID += 1
            observers.entries.append((observers.nextID, observer))
            return ObserverToken(id: observers.nextID)
        }
    }

    /// Stops calling the observer; later changes are not reported to it.
    public func removeDesiredObserver(_ token: ObserverToken) {
        observers.withLock { $0.entries.removeAll { $0.id == token.id } }
    }

    // MARK: internals

    /// The etag an `If-Match` value asks for; nil for none or a wildcard. Azure's SDKs send etags
    /// quoted (`"AAAAAAAAAAE="`) and "any" as `"*"`.
    static func etag(fromIfMatch header: String?) -> String? {
        guard var value = header?.trimmingSpaces, !value.isEmpty else { return nil }
        if value.hasPrefix("W/") { value.removeFirst(2) }
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
        return value == "*" ? nil : value
    }

    private func stored(_ identity: IdentityID) async throws(TwinError) -> Twin? {
        do {
            return try await store.twin(identity)
        } catch {
            throw TwinError.storage(error, while: "reading a twin")
        }
    }

    /// Read, change, compare-and-swap; retried on a lost race unless the caller named an etag.
    private func write(
        _ identity: IdentityID, expectedEtag: String?, operation: String,
        _ change: (Twin, Timestamp) throws(TwinError) -> TwinUpdate
    ) async throws(TwinError) -> Twin {
        for _ in 0..<max(1, configuration.maximumWriteAttempts) {
            let current = try await twin(of: identity)
            if let expectedEtag, !current.etag.utf8.elementsEqual(expectedEtag.utf8) {
                throw TwinError(.preconditionFailed, "the twin's etag does not match If-Match")
            }
            let update = try change(current, clock())
            guard update.changed else { return current }
            do {
                try await store.replaceTwin(update.twin, expectedEtag: current.etag)
                changed(identity)
            } catch where error.code == .conflict {
                if expectedEtag != nil { throw TwinError(.preconditionFailed, "the twin changed since the etag in If-Match") }
                continue
            } catch where error.code == .notFound {
                throw TwinError(.notFound, "the twin was deleted during the update")
            } catch {
                throw TwinError.storage(error, while: operation)
            }
            logger.trace("stored a twin change", metadata: ["identity": "\(identity)", "version": "\(update.twin.version)"])
            if let desired = update.desiredChange { notify(identity, desired, version: update.twin.desired.version) }
            return update.twin
        }
        throw TwinError(.unavailable, "\(operation): other writers kept changing the twin")
    }

    private func notify(_ identity: IdentityID, _ change: JSONObject, version: Int64) {
        let current = observers.withLock { $0.entries.map(\.observer) }
        guard !current.isEmpty else { return }
        let body = TwinJSON.desiredNotification(change, version: version)
        for observer in current { observer(identity, body, version) }
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (header whitespace).
    fileprivate var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
