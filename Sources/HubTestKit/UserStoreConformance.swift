import HubCore
import HubStorage
import Testing

/// The one test suite every `UserStore` backend must pass (see `RegistryStoreConformance`).
public enum UserStoreConformance {
    public enum Check: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case emptyStore
        case roundTripWithRulesInOrder
        case duplicateIsRefused
        case replaceComparesEtags
        case deleteComparesEtags
        case awkwardNamesStayDistinct
        case survivesReopen

        public var testDescription: String { rawValue }
    }

    public static func run(_ check: Check, on fixture: some IdentityStoreFixture) async throws {
        try await fixture.withStores { stores in try await run(check, stores, fixture) }
    }

    private typealias S = IdentitySamples

    private static func run(_ check: Check, _ stores: IdentityStores, _ fixture: some IdentityStoreFixture) async throws {
        let store = stores.users
        switch check {
        case .emptyStore:
            #expect(try await store.users().isEmpty)
            #expect(try await store.user(named: "admin") == nil)

        case .roundTripWithRulesInOrder:
            var bare = S.user("bare")
            bare.rules = []
            let users = [S.user("zed"), S.user("Admin"), bare]
            for u in users { try await store.insertUser(u) }
            #expect(S.exactlyEqual(try await store.users(), S.byteOrdered(users, by: \.username)))
            #expect(try await store.user(named: "zed")?.rules == S.user("zed").rules)
            #expect(try await store.user(named: "bare")?.rules == [])
            #expect(try await store.user(named: "admin") == nil, "usernames are case-sensitive")

        case .duplicateIsRefused:
            let original = S.user("admin")
            try await store.insertUser(original)
            await S.expectStorageError(.duplicate) { try await store.insertUser(S.user("admin", etag: "other")) }
            #expect(try await store.users() == [original])

        case .replaceComparesEtags:
            try await store.insertUser(S.user("admin", etag: "u1"))
            var updated = S.user("admin", etag: "u2")
            updated.passwordHash = "$scrypt$ln=17,r=8,p=1$bmV3$bmV3"
            updated.rules = [ACLRule(pattern: "#", actions: .all, allow: false)]
            try await store.replaceUser(updated, expectedEtag: "u1")
            #expect(try await store.user(named: "admin") == updated)
            await S.expectStorageError(.conflict) { try await store.replaceUser(S.user("admin", etag: "u3"), expectedEtag: "u1") }
            #expect(try await store.user(named: "admin") == updated)
            updated.etag = "u4"
            try await store.replaceUser(updated, expectedEtag: nil)
            #expect(try await store.user(named: "admin") == updated)
            await S.expectStorageError(.notFound) { try await store.replaceUser(S.user("absent"), expectedEtag: nil) }

        case .deleteComparesEtags:
            try await store.insertUser(S.user("admin", etag: "u1"))
            await S.expectStorageError(.conflict) { try await store.deleteUser(named: "admin", expectedEtag: "u0") }
            try await store.deleteUser(named: "admin", expectedEtag: "u1")
            #expect(try await store.user(named: "admin") == nil)
            await S.expectStorageError(.notFound) { try await store.deleteUser(named: "admin", expectedEtag: nil) }

        case .awkwardNamesStayDistinct:
            var users: [MQTTUser] = []
            for (i, name) in S.awkwardNames.enumerated() {
                var u = S.user(name, etag: S.awkwardNames[(i + 1) % S.awkwardNames.count])
                u.passwordHash = S.awkwardNames[(i + 2) % S.awkwardNames.count]
                users.append(u)
                try await store.insertUser(u)
            }
            let loaded = try await store.users()
            #expect(loaded.count == users.count, "canonically equivalent usernames must not merge")
            #expect(S.exactlyEqual(loaded, S.byteOrdered(users, by: \.username)))
            for u in users {
                #expect(try await store.user(named: u.username).map { S.exactlyEqual([$0], [u]) } == true)
            }
            #expect(try await store.user(named: "under_scor%") == nil)
            // Replacing one of two canonically equivalent usernames leaves the other alone.
            let precomposed = users.first { $0.username.utf8.elementsEqual("caf\u{E9}".utf8) }!
            let decomposed = users.first { $0.username.utf8.elementsEqual("cafe\u{301}".utf8) }!
            try await store.replaceUser(S.user(precomposed.username, etag: "new"), expectedEtag: precomposed.etag)
            #expect(try await store.user(named: decomposed.username).map { S.exactlyEqual([$0], [decomposed]) } == true)
            #expect(try await store.user(named: precomposed.username)?.etag == "new")

        case .survivesReopen:
            let users = [S.user("admin"), S.user("sensor-gw")]
            for u in users { try await store.insertUser(u) }
            let reopened = try await fixture.reopen(stores).users
            #expect(S.exactlyEqual(try await reopened.users(), S.byteOrdered(users, by: \.username)))
            try await reopened.deleteUser(named: "admin", expectedEtag: "u1")
            #expect(try await reopened.users().count == 1)
        }
    }
}
