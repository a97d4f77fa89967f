import HubCore
import Synchronization

/// `RegistryStore` in memory: the reference implementation the conformance suite is written against,
/// and the store of unit tests. Nothing survives the process.
///
/// Every operation is atomic under one lock. Identifiers are keyed by their UTF-8 bytes (`ExactKey`),
/// and devices are kept in a sorted index so `devices(after:limit:)` pages in byte order like SQL's
/// binary collation.
public final class InMemoryRegistryStore: RegistryStore {
    private struct State {
        var devices: [ExactKey: Device] = [:]
        /// Device keys in byte order, for paging.
        var order: [ExactKey] = []
        /// Modules by device key, then module key.
        var modules: [ExactKey: [ExactKey: Module]] = [:]
    }

    private let state = Mutex(State())

    /// An empty store.
    public init() {}

    // MARK: devices

    public func device(_ id: DeviceID) async throws(StorageError) -> Device? {
        state.withLock { $0.devices[ExactKey(id.rawValue)] }
    }

    public func insertDevice(_ device: Device) async throws(StorageError) {
        let key = ExactKey(device.id.rawValue)
        try state.withLock { (state) throws(StorageError) in
            guard state.devices[key] == nil else { throw StorageError(.duplicate, "insertDevice: the device exists") }
            state.devices[key] = device
            state.order.insert(key, at: state.order.insertionIndex(of: key))
        }
    }

    public func replaceDevice(_ device: Device, expectedEtag: String?) async throws(StorageError) {
        let key = ExactKey(device.id.rawValue)
        try state.withLock { (state) throws(StorageError) in
            guard let current = state.devices[key] else { throw StorageError(.notFound, "replaceDevice: no such device") }
            try Self.check(current.etag, expectedEtag, "replaceDevice")
            state.devices[key] = device
        }
    }

    public func deleteDevice(_ id: DeviceID, expectedEtag: String?) async throws(StorageError) -> Device {
        let key = ExactKey(id.rawValue)
        return try state.withLock { (state) throws(StorageError) -> Device in
            guard let current = state.devices[key] else { throw StorageError(.notFound, "deleteDevice: no such device") }
            try Self.check(current.etag, expectedEtag, "deleteDevice")
            state.devices[key] = nil
            state.modules[key] = nil
            let index = state.order.insertionIndex(of: key)
            if index < state.order.count && state.order[index] == key { state.order.remove(at: index) }
            return current
        }
    }

    public func devices(after: DeviceID?, limit: Int) async throws(StorageError) -> [Device] {
        guard limit > 0 else { return [] }
        return state.withLock { state in
            var start = 0
            if let after {
                let key = ExactKey(after.rawValue)
                start = state.order.insertionIndex(of: key)
                if start < state.order.count && state.order[start] == key { start += 1 }
            }
            let end = start + min(limit, state.order.count - start)
            return state.order[start..<end].compactMap { state.devices[$0] }
        }
    }

    public func deviceCounts() async throws(StorageError) -> DeviceCounts {
        state.withLock { state in
            let enabled = state.devices.values.count { $0.status == .enabled }
            return DeviceCounts(total: state.devices.count, enabled: enabled, disabled: state.devices.count - enabled)
        }
    }

    // MARK: modules

    public func module(_ device: DeviceID, _ module: ModuleID) async throws(StorageError) -> Module? {
        state.withLock { $0.modules[ExactKey(device.rawValue)]?[ExactKey(module.rawValue)] }
    }

    public func insertModule(_ module: Module) async throws(StorageError) {
        let deviceKey = ExactKey(module.deviceID.rawValue)
        let moduleKey = ExactKey(module.id.rawValue)
        try state.withLock { (state) throws(StorageError) in
            guard state.devices[deviceKey] != nil else { throw StorageError(.notFound, "insertModule: no such device") }
            guard state.modules[deviceKey]?[moduleKey] == nil else {
                throw StorageError(.duplicate, "insertModule: the module exists")
            }
            state.modules[deviceKey, default: [:]][moduleKey] = module
        }
    }

    public func replaceModule(_ module: Module, expectedEtag: String?) async throws(StorageError) {
        let deviceKey = ExactKey(module.deviceID.rawValue)
        let moduleKey = ExactKey(module.id.rawValue)
        try state.withLock { (state) throws(StorageError) in
            guard let current = state.modules[deviceKey]?[moduleKey] else {
                throw StorageError(.notFound, "replaceModule: no such module")
            }
            try Self.check(current.etag, expectedEtag, "replaceModule")
            state.modules[deviceKey]![moduleKey] = module
        }
    }

    public func deleteModule(_ device: DeviceID, _ module: ModuleID, expectedEtag: String?) async throws(StorageError) -> Module {
        let deviceKey = ExactKey(device.rawValue)
        let moduleKey = ExactKey(module.rawValue)
        return try state.withLock { (state) throws(StorageError) -> Module in
            guard let current = state.modules[deviceKey]?[moduleKey] else {
                throw StorageError(.notFound, "deleteModule: no such module")
            }
            try Self.check(current.etag, expectedEtag, "deleteModule")
            state.modules[deviceKey]![moduleKey] = nil
            return current
        }
    }

    public func modules(of device: DeviceID) async throws(StorageError) -> [Module] {
        let deviceKey = ExactKey(device.rawValue)
        return try state.withLock { (state) throws(StorageError) -> [Module] in
            guard state.devices[deviceKey] != nil else { throw StorageError(.notFound, "modules: no such device") }
            let modules = state.modules[deviceKey] ?? [:]
            return modules.keys.sorted().map { modules[$0]! }
        }
    }

    // MARK: activity

    public func recordConnectionState(_ identity: IdentityID, _ connection: ConnectionState, at time: Timestamp) async throws(StorageError) {
        state.withLock { state in Self.record(ConnectionStateRecord(identity: identity, state: connection, time: time), in: &state) }
    }

    /// All records under one lock, in order.
    public func recordConnectionStates(_ records: [ConnectionStateRecord]) async throws(StorageError) {
        state.withLock { state in
            for r in records { Self.record(r, in: &state) }
        }
    }

    private static func record(_ r: ConnectionStateRecord, in state: inout State) {
        let deviceKey = ExactKey(r.identity.device.rawValue)
        if let module = r.identity.module {
            let moduleKey = ExactKey(module.rawValue)
            guard var m = state.modules[deviceKey]?[moduleKey] else { return }
            if !r.activityOnly {
                m.connectionState = r.state
                m.connectionStateUpdatedTime = r.time
            }
            m.lastActivityTime = r.lastActivity
            state.modules[deviceKey]![moduleKey] = m
        } else {
            guard var d = state.devices[deviceKey] else { return }
            if !r.activityOnly {
                d.connectionState = r.state
                d.connectionStateUpdatedTime = r.time
            }
            d.lastActivityTime = r.lastActivity
            state.devices[deviceKey] = d
        }
    }

    /// `.conflict` unless `expected` is nil or byte-equal to `stored`.
    static func check(_ stored: String, _ expected: String?, _ operation: String) throws(StorageError) {
        if let expected, !stored.isByteEqual(to: expected) {
            throw StorageError(.conflict, "\(operation): the etag does not match")
        }
    }
}

extension Array where Element: Comparable {
    /// The first index whose element is not less than `element` (binary search; the array is sorted).
    func insertionIndex(of element: Element) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if self[mid] < element { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
