import HubCore
import HubRegistry
import HubStorage
import Testing

@Suite("DeviceRegistry: shared access policies")
struct DeviceRegistryPolicyTests {
    @Test("bootstrap creates Azure's defaults once and serves them from memory", arguments: Backend.allCases)
    func defaults(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        #expect(env.registry.policy(named: "iothubowner") == nil, "nothing before bootstrap")
        try await env.registry.bootstrap(ownerKey: nil)
        let policies = try await env.registry.policies()
        #expect(Set(policies.map(\.name)) == Set(AccessPolicy.defaults().map(\.name)))
        #expect(policies.map(\.name) == policies.map(\.name).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        for p in policies { #expect(env.registry.policy(named: p.name) == p) }
        #expect(env.registry.policy(named: "iothubowner")?.rights == .all)
        #expect(env.registry.policy(named: "registryRead")?.rights == .registryRead)
        #expect(env.registry.policy(named: "IOTHUBOWNER") == nil)
        // A second bootstrap (a restart) keeps the keys.
        try await env.registry.bootstrap(ownerKey: nil)
        #expect(try await env.registry.policies() == policies)
        #expect(try await env.stores.policies.policies() == policies)
    }

    @Test("ownerKey sets iothubowner's primary key, on first start and later ones", arguments: Backend.allCases)
    func ownerKey(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        try await env.registry.bootstrap(ownerKey: key(0x11))
        let first = try #require(env.registry.policy(named: "iothubowner"))
        #expect(first.primaryKey == key(0x11))
        #expect(first.secondaryKey != key(0x11))
        let service = env.registry.policy(named: "service")
        // A restart with another owner key replaces only that key.
        let log = ChangeLog()
        env.registry.observe { log.append($0) }
        try await env.registry.bootstrap(ownerKey: key(0x22, count: 16))
        #expect(env.registry.policy(named: "iothubowner")?.primaryKey == key(0x22, count: 16))
        #expect(env.registry.policy(named: "iothubowner")?.secondaryKey == first.secondaryKey)
        #expect(env.registry.policy(named: "service") == service)
        #expect(try await env.stores.policies.policy(named: "iothubowner")?.primaryKey == key(0x22, count: 16))
        #expect(log.changes.count == 1)
        // The same key again changes nothing.
        try await env.registry.bootstrap(ownerKey: key(0x22, count: 16))
        #expect(log.changes.count == 1)
    }

    @Test("policies already in the store are loaded, not replaced; a missing iothubowner is added for ownerKey", arguments: Backend.allCases)
    func existingPolicies(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let custom = AccessPolicy(name: "custom", rights: .serviceConnect, primaryKey: key(5), secondaryKey: key(6))
        try await env.stores.policies.savePolicies([custom])
        try await env.registry.bootstrap(ownerKey: nil)
        #expect(try await env.registry.policies() == [custom])
        #expect(env.registry.policy(named: "custom") == custom)
        try await env.registry.bootstrap(ownerKey: key(7))
        #expect(env.registry.policy(named: "iothubowner")?.rights == .all)
        #expect(try await env.registry.policies().map(\.name) == ["custom", "iothubowner"])
    }

    @Test("regeneratePolicyKey replaces a key or swaps them; memory, store and observers agree", arguments: Backend.allCases)
    func regenerate(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        try await env.registry.bootstrap(ownerKey: nil)
        let log = ChangeLog()
        env.registry.observe { log.append($0) }
        let before = try #require(env.registry.policy(named: "registryReadWrite"))
        let primary = try await env.registry.regeneratePolicyKey("registryReadWrite", .primary)
        #expect(primary.primaryKey != before.primaryKey && primary.secondaryKey == before.secondaryKey)
        #expect(primary.rights == before.rights)
        let swapped = try await env.registry.regeneratePolicyKey("registryReadWrite", .swap)
        #expect(swapped.primaryKey == primary.secondaryKey && swapped.secondaryKey == primary.primaryKey)
        let secondary = try await env.registry.regeneratePolicyKey("registryReadWrite", .secondary)
        #expect(secondary.primaryKey == swapped.primaryKey && secondary.secondaryKey != swapped.secondaryKey)
        #expect(env.registry.policy(named: "registryReadWrite") == secondary)
        #expect(try await env.stores.policies.policy(named: "registryReadWrite") == secondary)
        #expect(log.changes == [
            .policyUpdated(name: "registryReadWrite", current: primary), .policyUpdated(name: "registryReadWrite", current: swapped),
            .policyUpdated(name: "registryReadWrite", current: secondary),
        ])
        await expectRegistryError(.policyNotFound) { _ = try await env.registry.regeneratePolicyKey("nope", .primary) }
    }
}
