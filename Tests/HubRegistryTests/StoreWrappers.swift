import HubCore
import HubStorage
import Synchronization

/// A `RegistryStore` that forwards to another and can be told to fail: every write with `writeFailure`,
/// every read with `readFailure`. Logs each successful write's resulting etag (for ordering checks).
final class FaultyRegistryStore: RegistryStore {
    let inner: any RegistryStore
    let writeFailure = Mutex<StorageError?>(nil)
    let readFailure = Mutex<StorageError?>(nil)
    /// `stored:<etag>` after each successful device write, shared with observers in tests.
    let log: EventLog?

    init(_ inner: any RegistryStore, log: EventLog? = nil) {
        self.inner = inner
        self.log = log
    }

    private func checkWrite() throws(StorageError) { if let e = writeFailure.withLock({ $0 }) { throw e } }
    private func checkRead() throws(StorageError) { if let e = readFailure.withLock({ $0 }) { throw e } }

    func device(_ id: DeviceID) async throws(StorageError) -> Device? {
        try checkRead()
        return try await inner.device(id)
    }
    func insertDevice(_ device: Device) async throws(StorageError) {
        try checkWrite()
        try await inner.insertDevice(device)
        log?.append("stored:\(device.etag)")
    }
    func replaceDevice(_ device: Device, expectedEtag: String?) async throws(StorageError) {
        try checkWrite()
        try await inner.replaceDevice(device, expectedEtag: expectedEtag)
        log?.append("stored:\(device.etag)")
    }
    func deleteDevice(_ id: DeviceID, expectedEtag: String?) async throws(StorageError) -> Device {
        try checkWrite()
        let d = try await inner.deleteDevice(id, expectedEtag: expectedEtag)
        log?.append("deleted:\(id)")
        return d
    }
    func devices(after: DeviceID?, limit: Int) async throws(StorageError) -> [Device] {
        try checkRead()
        return try await inner.devices(after: after, limit: limit)
    }
    func deviceCounts() async throws(StorageError) -> DeviceCounts {
        try checkRead()
        return try await inner.deviceCounts()
    }
    func module(_ device: DeviceID, _ module: ModuleID) async throws(StorageError) -> Module? {
        try checkRead()
        return try await inner.module(device, module)
    }
    func insertModule(_ module: Module) async throws(StorageError) {
        try checkWrite()
        try await inner.insertModule(module)
    }
    func replaceModule(_ module: Module, expectedEtag: String?) async throws(StorageError) {
        try checkWrite()
        try await inner.replaceModule(module, expectedEtag: expectedEtag)
    }
    func deleteModule(_ device: DeviceID, _ module: ModuleID, expectedEtag: String?) async throws(StorageError) -> Module {
        try checkWrite()
        return try await inner.deleteModule(device, module, expectedEtag: expectedEtag)
    }
    func modules(of device: DeviceID) async throws(StorageError) -> [Module] {
        try checkRead()
        return try await inner.modules(of: device)
    }
    func recordConnectionState(_ identity: IdentityID, _ state: ConnectionState, at time: Timestamp) async throws(StorageError) {
        try checkWrite()
        try await inner.recordConnectionState(identity, state, at: time)
    }
    func recordConnectionStates(_ records: [ConnectionStateRecord]) async throws(StorageError) {
        try checkWrite()
        try await inner.recordConnectionStates(records)
    }
}

/// An ordered list of events from several places (store writes, observers).
final class EventLog: Sendable {
    private let events = Mutex<[String]>([])
    func append(_ event: String) { events.withLock { $0.append(event) } }
    var all: [String] { events.withLock { $0 } }
}

/// A `RegistryStore` whose next `device(_:)` read, once armed, fetches its answer and then waits until
/// released: it lets a test put a registry write between a credential load's read and its cache insert.
final class GatedRegistryStore: RegistryStore {
    let inner: any RegistryStore
    private struct Gate {
        var armed = false
        var reached: CheckedContinuation<Void, Never>?
        var release: CheckedContinuation<Void, Never>?
        var isReached = false
    }
    private let gate = Mutex(Gate())

    init(_ inner: any RegistryStore) { self.inner = inner }

    func arm() { gate.withLock { $0.armed = true } }

    /// Waits until an armed read has fetched its answer and is holding it.
    func waitUntilReached() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = gate.withLock { g -> Bool in
                if g.isReached { return true }
                g.reached = c
                return false
            }
            if ready { c.resume() }
        }
    }

    /// Lets the held read return.
    func release() {
        let c = gate.withLock { g -> CheckedContinuation<Void, Never>? in
            defer { g.release = nil }
            return g.release
        }
        c?.resume()
    }

    func device(_ id: DeviceID) async throws(StorageError) -> Device? {
        let answer = try await inner.device(id)
        let hold = gate.withLock { g -> Bool in
            guard g.armed else { return false }
            g.armed = false
            return true
        }
        if hold {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let reached = gate.withLock { g -> CheckedContinuation<Void, Never>? in
                    g.release = c
                    g.isReached = true
                    defer { g.reached = nil }
                    return g.reached
                }
                reached?.resume()
            }
        }
        return answer
    }

    func insertDevice(_ device: Device) async throws(StorageError) { try await inner.insertDevice(device) }
    func replaceDevice(_ device: Device, expectedEtag: String?) async throws(StorageError) {
        try await inner.replaceDevice(device, expectedEtag: expectedEtag)
    }
    func deleteDevice(_ id: DeviceID, expectedEtag: String?) async throws(StorageError) -> Device {
        try await inner.deleteDevice(id, expectedEtag: expectedEtag)
    }
    func devices(after: DeviceID?, limit: Int) async throws(StorageError) -> [Device] { try await inner.devices(after: after, limit: limit) }
    func deviceCounts() async throws(StorageError) -> DeviceCounts { try await inner.deviceCounts() }
    func module(_ device: DeviceID, _ module: ModuleID) async throws(StorageError) -> Module? { try await inner.module(device, module) }
    func insertModule(_ module: Module) async throws(StorageError) { try await inner.insertModule(module) }
    func replaceModule(_ module: Module, expectedEtag: String?) async throws(StorageError) {
        try await inner.replaceModule(module, expectedEtag: expectedEtag)
    }
    func deleteModule(_ device: DeviceID, _ module: ModuleID, expectedEtag: String?) async throws(StorageError) -> Module {
        try await inner.deleteModule(device, module, expectedEtag: expectedEtag)
    }
    func modules(of device: DeviceID) async throws(StorageError) -> [Module] { try await inner.modules(of: device) }
    func recordConnectionState(_ identity: IdentityID, _ state: ConnectionState, at time: Timestamp) async throws(StorageError) {
        try await inner.recordConnectionState(identity, state, at: time)
    }
}
