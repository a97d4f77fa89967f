import HubCore
import HubStorage
import Testing

/// The one test suite every `AccessPolicyStore` backend must pass (see `RegistryStoreConformance`).
public enum AccessPolicyStoreConformance {
    public enum Check: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case emptyStore
        case defaultsRoundTripInNameOrder
        case saveReplacesByName
        case saveIsOneBatch
        case awkwardNamesStayDistinct
        case survivesReopen

        public var testDescription: String { rawValue }
    }

    public static func run(_ check: Check, on fixture: some IdentityStoreFixture) async throws {
        try await fixture.withStores { stores in try await run(check, stores, fixture) }
    }

    private typealias S = IdentitySamples

    private static func run(_ check: Check, _ stores: IdentityStores, _ fixture: some IdentityStoreFixture) async throws {
        let store = stores.policies
        switch check {
        case .emptyStore:
            #expect(try await store.policies().isEmpty)
            #expect(try await store.policy(named: "iothubowner") == nil)
            try await store.savePolicies([])
            #expect(try await store.policies().isEmpty)

        case .defaultsRoundTripInNameOrder:
            let defaults = AccessPolicy.defaults()
            try await store.savePolicies(defaults)
            #expect(S.exactlyEqual(try await store.policies(), S.byteOrdered(defaults, by: \.name)))
            for p in defaults { #expect(try await store.policy(named: p.name) == p) }
            // Names are case-sensitive.
            #expect(try await store.policy(named: "IOTHUBOWNER") == nil)

        case .saveReplacesByName:
            let a = S.policy("a", .registryRead)
            let b = S.policy("b", .serviceConnect)
            try await store.savePolicies([a, b])
            var a2 = a
            a2.rights = [.registryRead, .registryWrite]
            a2.primaryKey = .generate()
            try await store.savePolicies([a2])
            #expect(try await store.policies() == [a2, b])

        case .saveIsOneBatch:
            // The same name twice in one batch: the last one wins.
            let first = S.policy("twice", .deviceConnect)
            let second = S.policy("twice", .all)
            try await store.savePolicies([first, second, S.policy("other")])
            #expect(try await store.policy(named: "twice") == second)
            #expect(try await store.policies().count == 2)

        case .awkwardNamesStayDistinct:
            let policies = S.awkwardNames.map { S.policy($0, .serviceConnect) }
            try await store.savePolicies(policies)
            let loaded = try await store.policies()
            #expect(loaded.count == S.awkwardNames.count, "canonically equivalent names must not merge")
            #expect(S.exactlyEqual(loaded, S.byteOrdered(policies, by: \.name)))
            for p in policies {
                let one = try await store.policy(named: p.name)
                #expect(one.map { S.exactlyEqual([$0], [p]) } == true, "\(p.name.debugDescription) differs")
            }
            #expect(try await store.policy(named: "it") == nil)
            #expect(try await store.policy(named: "under%") == nil)

        case .survivesReopen:
            let policies = AccessPolicy.defaults() + [S.policy("caf\u{E9}"), S.policy("cafe\u{301}")]
            try await store.savePolicies(policies)
            let reopened = try await fixture.reopen(stores).policies
            #expect(S.exactlyEqual(try await reopened.policies(), S.byteOrdered(policies, by: \.name)))
            try await reopened.savePolicies([S.policy("new")])
            #expect(try await reopened.policies().count == policies.count + 1)
        }
    }
}
