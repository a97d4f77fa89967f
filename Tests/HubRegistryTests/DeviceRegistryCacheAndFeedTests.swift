import HubCore
import HubRegistry
import HubStorage
import Synchronization
import Testing

@Suite("DeviceRegistry: credential cache and change feed")
struct DeviceRegistryCacheAndFeedTests {
    @Test("cachedCredentials reflects disable, key change and delete as soon as the write returns (S2, S3)", arguments: Backend.allCases)
    func invalidation(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let identity = IdentityID(device: id("d"))
        #expect(env.registry.cachedCredentials(for: identity) == nil)
        let created = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: nil)
        #expect(env.registry.cachedCredentials(for: identity) == IdentityCredentials(
            identity: identity, generationID: created.generationID, status: .enabled, authentication: created.authentication))

        let disabled = try await env.registry.putDevice(
            DeviceWrite(id: id("d"), status: .disabled, authentication: .sas(primaryKey: key(1), secondaryKey: key(2))), ifMatch: "*")
        #expect(env.registry.cachedCredentials(for: identity)?.status == .disabled)
        #expect(env.registry.cachedCredentials(for: identity)?.authentication == disabled.authentication)

        let rekeyed = try await env.registry.regenerateKey(id("d"), .primary)
        #expect(env.registry.cachedCredentials(for: identity)?.authentication == rekeyed.authentication)
        #expect(env.registry.cachedCredentials(for: identity)?.authentication.keys?.primary != key(1))

        try await env.registry.deleteDevice(id("d"), ifMatch: "*")
        #expect(env.registry.cachedCredentials(for: identity) == nil)
        #expect(await env.registry.credentials(for: identity) == nil)

        let reborn = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: nil)
        #expect(env.registry.cachedCredentials(for: identity)?.generationID == reborn.generationID)
        #expect(reborn.generationID != created.generationID)
    }

    @Test("credentials(for:) loads from the store on a miss and caches", arguments: Backend.allCases)
    func loadOnMiss(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        // Written underneath the registry (another process, or before a restart): not cached yet.
        let device = Device(id: id("outside"), generationID: "1", etag: "e", authentication: .sas(primaryKey: key(9), secondaryKey: key(8)))
        try await env.stores.registry.insertDevice(device)
        let identity = IdentityID(device: id("outside"))
        #expect(env.registry.cachedCredentials(for: identity) == nil)
        #expect(await env.registry.credentials(for: identity)?.authentication == device.authentication)
        #expect(env.registry.cachedCredentials(for: identity)?.generationID == "1")
        #expect(await env.registry.credentials(for: IdentityID(device: id("nobody"))) == nil)
        #expect(await env.registry.credentials(for: IdentityID(device: id("outside"), module: moduleID("none"))) == nil)
    }

    @Test("the cache is bounded and evicts the least recently used", arguments: [Backend.inMemory])
    func bounded(_ backend: Backend) async throws {
        var configuration = DeviceRegistry.Configuration.testDefaults
        configuration.credentialCacheCapacity = 3
        let env = try backend.make(configuration: configuration)
        defer { env.cleanUp() }
        for raw in ["a", "b", "c"] { _ = try await env.registry.putDevice(DeviceWrite(id: id(raw)), ifMatch: nil) }
        _ = env.registry.cachedCredentials(for: IdentityID(device: id("a")))  // a is now the most recent
        _ = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: nil)
        #expect(env.registry.cachedCredentials(for: IdentityID(device: id("b"))) == nil)
        #expect(env.registry.cachedCredentials(for: IdentityID(device: id("a"))) != nil)
        #expect(env.registry.cachedCredentials(for: IdentityID(device: id("c"))) != nil)
        // An evicted identity loads again on demand.
        #expect(await env.registry.credentials(for: IdentityID(device: id("b"))) != nil)
    }

    @Test("a load that read before a write never puts the old value back in the cache", arguments: Backend.allCases)
    func loadRacesWrite(_ backend: Backend) async throws {
        var gated: GatedRegistryStore!
        let env = try backend.make(wrap: { inner in
            gated = GatedRegistryStore(inner)
            return gated
        })
        defer { env.cleanUp() }
        let identity = IdentityID(device: id("race"))
        let device = Device(id: id("race"), generationID: "1", etag: "e", authentication: .sas(primaryKey: key(1), secondaryKey: key(2)))
        try await env.stores.registry.insertDevice(device)  // not in the registry's cache
        let gate = gated!
        gate.arm()
        async let loaded = env.registry.credentials(for: identity)
        await gate.waitUntilReached()  // the load has read the enabled device and is paused
        _ = try await env.registry.putDevice(
            DeviceWrite(id: id("race"), status: .disabled, authentication: .sas(primaryKey: key(1), secondaryKey: key(2))), ifMatch: "*")
        gate.release()
        #expect(await loaded?.status == .enabled, "the load answers with what it read")
        #expect(env.registry.cachedCredentials(for: identity)?.status == .disabled, "but the cache keeps the write's value")
    }

    @Test("observers see every change after the store committed it, in commit order, with the cache already updated", arguments: Backend.allCases)
    func observersInCommitOrder(_ backend: Backend) async throws {
        let events = EventLog()
        let env = try backend.make(wrap: { FaultyRegistryStore($0, log: events) })
        defer { env.cleanUp() }
        let registry = env.registry
        let cacheAgreed = Mutex(true)
        let log = ChangeLog()
        registry.observe { change in
            if case .deviceUpdated(let device, _) = change {
                events.append("observed:\(device.etag)")
                let cached = registry.cachedCredentials(for: IdentityID(device: device.id))
                if cached?.authentication != device.authentication || cached?.status != device.status {
                    cacheAgreed.withLock { $0 = false }
                }
            }
            log.append(change)
        }
        _ = try await registry.putDevice(DeviceWrite(id: id("hot")), ifMatch: nil)
        // 40 concurrent unconditional updates.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<40 {
                group.addTask {
                    _ = try await registry.putDevice(DeviceWrite(id: id("hot"), status: i % 2 == 0 ? .disabled : .enabled), ifMatch: "*")
                }
            }
            try await group.waitForAll()
        }
        let updates = log.changes.compactMap { change -> (Device, Device?)? in
            if case .deviceUpdated(let d, let previous) = change { return (d, previous) }
            return nil
        }
        #expect(updates.count == 41)
        #expect(updates[0].1 == nil)
        // Each change's `previous` is the change before it: nothing reordered, nothing skipped.
        for (before, after) in zip(updates, updates.dropFirst()) {
            #expect(after.1?.etag == before.0.etag)
        }
        #expect(try await registry.device(id("hot")).etag == updates.last?.0.etag)
        // Every observation came after its store write.
        let all = events.all
        for (device, _) in updates {
            let stored = all.firstIndex(of: "stored:\(device.etag)")
            let observed = all.firstIndex(of: "observed:\(device.etag)")
            #expect(stored != nil && observed != nil && stored! < observed!)
        }
        #expect(cacheAgreed.withLock { $0 })
    }

    @Test("every kind of write is published; a failed write publishes nothing", arguments: Backend.allCases)
    func feedCoversWrites(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let log = ChangeLog()
        env.registry.observe { log.append($0) }
        try await env.registry.bootstrap(ownerKey: nil)
        let policyChanges = log.changes.count
        #expect(policyChanges == AccessPolicy.defaults().count)
        let d = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: nil)
        let m = try await env.registry.putModule(ModuleWrite(deviceID: id("d"), id: moduleID("m")), ifMatch: nil)
        _ = try await env.registry.regenerateKey(id("d"), .swap)
        _ = try await env.registry.regeneratePolicyKey("service", .secondary)
        try await env.registry.deleteModule(id("d"), moduleID("m"), ifMatch: m.etag)
        await expectRegistryError(.deviceAlreadyExists) { _ = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: nil) }
        await expectRegistryError(.preconditionFailed) { try await env.registry.deleteDevice(id("d"), ifMatch: d.etag) }
        let tail = log.changes.dropFirst(policyChanges).map { change -> String in
            switch change {
            case .deviceUpdated(_, let previous): previous == nil ? "device created" : "device updated"
            case .deviceDeleted: "device deleted"
            case .moduleUpdated(_, let previous): previous == nil ? "module created" : "module updated"
            case .moduleDeleted: "module deleted"
            case .policyUpdated(let name, _): "policy \(name)"
            case .certificateUpdated: "certificate"
            case .userUpdated: "user"
            }
        }
        #expect(tail == ["device created", "module created", "device updated", "policy service", "module deleted"])
    }

    @Test("storage failures map to .unavailable / .serverError, leak no storage detail, and publish nothing", arguments: Backend.allCases)
    func storageFailures(_ backend: Backend) async throws {
        var faulty: FaultyRegistryStore!
        let env = try backend.make(wrap: { inner in
            faulty = FaultyRegistryStore(inner)
            return faulty
        })
        defer { env.cleanUp() }
        let store = faulty!
        let created = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: nil)
        let log = ChangeLog()
        env.registry.observe { log.append($0) }
        let identity = IdentityID(device: id("d"))

        for (failure, expected) in [
            (StorageError(.diskFull, "writing registry_device: database or disk is full (SQLite code 13)"), RegistryError.Code.unavailable),
            (StorageError(.unavailable, "writing registry_device: database is locked (SQLite code 5)"), .unavailable),
            (StorageError(.corrupt, "registry_device: a sealed secret failed authentication"), .serverError),
        ] {
            store.writeFailure.withLock { $0 = failure }
            let error = await expectRegistryError(expected) {
                _ = try await env.registry.putDevice(DeviceWrite(id: id("d"), status: .disabled), ifMatch: "*")
            }
            #expect(error?.message.contains("SQLite") == false)
            #expect(error?.message.contains("registry_device") == false)
            await expectRegistryError(expected) { try await env.registry.deleteDevice(id("d"), ifMatch: "*") }
            await expectRegistryError(expected) { _ = try await env.registry.putDevice(DeviceWrite(id: id("new")), ifMatch: nil) }
            #expect(env.registry.cachedCredentials(for: identity)?.status == .enabled, "a failed write leaves the cache alone")
        }
        #expect(RegistryError.Code.unavailable.httpStatus == 503)
        #expect(RegistryError.Code.serverError.httpStatus == 500)
        // Per-entry failures in bulk.
        let bulk = try await env.registry.bulk([BulkOperation(mode: .create, device: DeviceWrite(id: id("b")))])
        #expect(bulk.errors.map(\.error.code) == [.serverError])
        store.writeFailure.withLock { $0 = nil }

        store.readFailure.withLock { $0 = StorageError(.unavailable, "reading: SQLITE_BUSY") }
        await expectRegistryError(.unavailable) { _ = try await env.registry.device(id("d")) }
        await expectRegistryError(.unavailable) { _ = try await env.registry.devices(top: 10) }
        await expectRegistryError(.unavailable) { _ = try await env.registry.statistics() }
        #expect(env.registry.cachedCredentials(for: identity) != nil, "cached credentials still answer")
        #expect(await env.registry.credentials(for: IdentityID(device: id("uncached"))) == nil, "a failed load denies")
        store.readFailure.withLock { $0 = nil }

        #expect(log.changes.isEmpty)
        #expect(try await env.registry.device(id("d")) == created)
    }
}
