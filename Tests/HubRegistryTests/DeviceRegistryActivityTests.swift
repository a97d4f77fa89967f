import HubCore
import HubRegistry
import HubStorage
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

@Suite("DeviceRegistry: connection activity")
struct DeviceRegistryActivityTests {
    @Test("recordConnection is written behind: visible through the registry at once, in the store after a flush, etag unchanged", arguments: Backend.allCases)
    func writeBehind(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let device = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: nil)
        let module = try await env.registry.putModule(ModuleWrite(deviceID: id("d"), id: moduleID("m")), ifMatch: nil)
        env.clock.advance(milliseconds: 500)
        let t = env.clock.now()
        env.registry.recordConnection(IdentityID(device: id("d")), connected: true)
        env.registry.recordConnection(module.identity, connected: true)
        env.registry.recordConnection(IdentityID(device: id("unknown")), connected: true)

        let seen = try await env.registry.device(id("d"))
        #expect(seen.connectionState == .connected && seen.lastActivityTime == t && seen.connectionStateUpdatedTime == t)
        #expect(seen.etag == device.etag)
        #expect(try await env.registry.devices(top: 10).first?.connectionState == .connected)
        #expect(try await env.registry.module(id("d"), moduleID("m")).connectionState == .connected)
        #expect(try await env.registry.modules(of: id("d")).first?.connectionState == .connected)
        #expect(try await env.stores.registry.device(id("d"))?.connectionState == .disconnected, "not written yet")

        await env.registry.flushConnectionStates()
        let stored = try #require(try await env.stores.registry.device(id("d")))
        #expect(stored.connectionState == .connected && stored.lastActivityTime == t)
        #expect(stored.etag == device.etag, "connection state never changes the etag")
        #expect(try await env.stores.registry.module(id("d"), moduleID("m"))?.connectionState == .connected)
        #expect(try await env.stores.registry.device(id("unknown")) == nil)
        // The etag still works for a conditional update, and the update keeps the connection state.
        let updated = try await env.registry.putDevice(DeviceWrite(id: id("d"), statusReason: "x"), ifMatch: device.etag)
        #expect(updated.connectionState == .connected)
    }

    @Test("changes coalesce: the latest per identity wins", arguments: Backend.allCases)
    func coalesce(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        _ = try await env.registry.putDevice(DeviceWrite(id: id("flappy")), ifMatch: nil)
        for i in 0..<50 {
            env.clock.advance(milliseconds: 10)
            env.registry.recordConnection(IdentityID(device: id("flappy")), connected: i % 2 == 0)
        }
        await env.registry.flushConnectionStates()
        let stored = try #require(try await env.stores.registry.device(id("flappy")))
        #expect(stored.connectionState == .disconnected)
        #expect(stored.lastActivityTime == env.clock.now())
    }

    @Test("a device update between record and flush does not lose the connection state; deletion drops it", arguments: Backend.allCases)
    func updatesDoNotLoseState(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        _ = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: nil)
        env.registry.recordConnection(IdentityID(device: id("d")), connected: true)
        _ = try await env.registry.putDevice(DeviceWrite(id: id("d"), status: .disabled), ifMatch: "*")
        await env.registry.flushConnectionStates()
        #expect(try await env.stores.registry.device(id("d"))?.connectionState == .connected)
        #expect(try await env.stores.registry.device(id("d"))?.status == .disabled)

        env.registry.recordConnection(IdentityID(device: id("d")), connected: false)
        try await env.registry.deleteDevice(id("d"), ifMatch: "*")
        _ = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: nil)
        await env.registry.flushConnectionStates()
        let reborn = try #require(try await env.stores.registry.device(id("d")))
        #expect(reborn.connectionStateUpdatedTime == nil, "the old incarnation's activity is not applied to the new one")
    }

    @Test("a failed flush keeps the records for the next one", arguments: Backend.allCases)
    func failedFlushRetries(_ backend: Backend) async throws {
        var faulty: FaultyRegistryStore!
        let env = try backend.make(wrap: { inner in
            faulty = FaultyRegistryStore(inner)
            return faulty
        })
        defer { env.cleanUp() }
        _ = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: nil)
        env.registry.recordConnection(IdentityID(device: id("d")), connected: true)
        faulty.writeFailure.withLock { $0 = StorageError(.diskFull, "full") }
        await env.registry.flushConnectionStates()
        #expect(try await env.stores.registry.device(id("d"))?.connectionState == .disconnected)
        #expect(try await env.registry.device(id("d")).connectionState == .connected)
        faulty.writeFailure.withLock { $0 = nil }
        await env.registry.flushConnectionStates()
        #expect(try await env.stores.registry.device(id("d"))?.connectionState == .connected)
    }

    @Test("pending changes are bounded", arguments: [Backend.inMemory])
    func bounded(_ backend: Backend) async throws {
        var configuration = DeviceRegistry.Configuration.testDefaults
        configuration.maximumPendingConnectionStates = 2
        configuration.connectionStateFlushBatchSize = 1
        let env = try backend.make(configuration: configuration)
        defer { env.cleanUp() }
        for raw in ["a", "b", "c"] { _ = try await env.registry.putDevice(DeviceWrite(id: id(raw)), ifMatch: nil) }
        for raw in ["a", "b", "c"] { env.registry.recordConnection(IdentityID(device: id(raw)), connected: true) }
        env.registry.recordConnection(IdentityID(device: id("a")), connected: false)  // an update of a pending one is kept
        await env.registry.flushConnectionStates()
        #expect(try await env.stores.registry.device(id("a"))?.connectionState == .disconnected)
        #expect(try await env.stores.registry.device(id("b"))?.connectionState == .connected)
        #expect(try await env.stores.registry.device(id("c"))?.connectionState == .disconnected, "dropped: over the bound")
    }

    @Test("the flusher service writes periodically and once more on graceful shutdown", arguments: Backend.allCases)
    func flusherService(_ backend: Backend) async throws {
        var configuration = DeviceRegistry.Configuration.testDefaults
        configuration.connectionStateFlushInterval = .milliseconds(20)
        let env = try backend.make(configuration: configuration)
        defer { env.cleanUp() }
        _ = try await env.registry.putDevice(DeviceWrite(id: id("a")), ifMatch: nil)
        _ = try await env.registry.putDevice(DeviceWrite(id: id("b")), ifMatch: nil)
        let flusher = env.registry.connectionStateFlusher
        #expect(flusher.interval == .milliseconds(20))
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await flusher.run() }
                env.registry.recordConnection(IdentityID(device: id("a")), connected: true)
                var flushed = false
                for _ in 0..<250 where !flushed {
                    try await Task.sleep(for: .milliseconds(20))
                    flushed = try await env.stores.registry.device(id("a"))?.connectionState == .connected
                }
                #expect(flushed, "flushed by the periodic loop")
                env.registry.recordConnection(IdentityID(device: id("b")), connected: true)
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(try await env.stores.registry.device(id("b"))?.connectionState == .connected, "flushed on shutdown")
    }

    @Test("a cancelled flusher stops at once and leaves unwritten states pending for an explicit flush", arguments: Backend.allCases)
    func flusherCancelled(_ backend: Backend) async throws {
        var configuration = DeviceRegistry.Configuration.testDefaults
        configuration.connectionStateFlushInterval = .seconds(3600)
        let env = try backend.make(configuration: configuration)
        defer { env.cleanUp() }
        _ = try await env.registry.putDevice(DeviceWrite(id: id("a")), ifMatch: nil)
        let flusher = env.registry.connectionStateFlusher
        let clock = ContinuousClock()
        let started = clock.now
        let task = Task { try await flusher.run() }
        env.registry.recordConnection(IdentityID(device: id("a")), connected: true)
        task.cancel()
        try await task.value
        // "At once" means without waiting out the 3600 s interval; the bound is loose because the
        // cooperative pool (2 threads here) is shared with every other suite running in parallel.
        #expect(clock.now - started < .seconds(60))
        #expect(try await env.stores.registry.device(id("a"))?.connectionState == .disconnected)
        #expect(try await env.registry.device(id("a")).connectionState == .connected, "still pending")
        await env.registry.flushConnectionStates()
        #expect(try await env.stores.registry.device(id("a"))?.connectionState == .connected)
    }
}
