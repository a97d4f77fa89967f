import HubCore
import HubStorage
import Testing

/// The one test suite every `TwinStore` backend must pass (in-memory, SQLite, later PostgreSQL):
///
/// ```swift
/// @Test(arguments: TwinStoreConformance.Check.allCases)
/// func sqlite(_ check: TwinStoreConformance.Check) async throws {
///     try await TwinStoreConformance.run(check, on: SQLiteTwinStoreFixture())
/// }
/// ```
///
/// Twins are compared with `==` *and* as their stored JSON text byte for byte
/// (`TwinStoreConformance.exactlyEqual`), because `String ==` is canonical equivalence.
public enum TwinStoreConformance {
    /// One property of the `TwinStore` contract.
    public enum Check: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case emptyStore
        case everyShapeRoundTrips
        case duplicateIsRefused
        case replaceComparesEtags
        case deleteTakesModuleTwinsAlong
        case scanPagesInIdentityOrder
        case scanFiltersByScope
        case awkwardIdentifiersStayDistinct
        case survivesReopen

        public var testDescription: String { rawValue }
    }

    /// Runs one check on a fresh store of `fixture`, then tears the fixture down.
    public static func run(_ check: Check, on fixture: some TwinStoreFixture) async throws {
        let opened = try await fixture.open()
        do {
            try await run(check, opened, fixture)
        } catch {
            try? await fixture.tearDown()
            throw error
        }
        try await fixture.tearDown()
    }

    private typealias S = IdentitySamples

    private static func run(_ check: Check, _ opened: OpenedTwinStore, _ fixture: some TwinStoreFixture) async throws {
        let store = opened.store
        switch check {
        case .emptyStore:
            #expect(try await store.twin(identity("dev1")) == nil)
            #expect(try await store.twins(after: nil, limit: 10, scope: .all).isEmpty)
            #expect(try await store.deleteTwins(of: identity("dev1")) == 0)
            await S.expectStorageError(.notFound) { try await store.replaceTwin(sample(identity("dev1")), expectedEtag: nil) }

        case .everyShapeRoundTrips:
            let twins = [sample(identity("dev1")), sample(identity("dev1", "mod1")), richSample(identity("rich"))]
            for twin in twins { try await store.insertTwin(twin) }
            for twin in twins {
                let loaded = try await store.twin(twin.identity)
                #expect(loaded.map { exactlyEqual([$0], [twin]) } == true, "\(twin.identity) differs")
            }

        case .duplicateIsRefused:
            let original = sample(identity("dev1"))
            try await store.insertTwin(original)
            var other = sample(identity("dev1"))
            other.etag = "other"
            await S.expectStorageError(.duplicate) { try await store.insertTwin(other) }
            #expect(try await store.twin(identity("dev1")) == original)

        case .replaceComparesEtags:
            let original = sample(identity("dev1"))
            try await store.insertTwin(original)
            var next = richSample(identity("dev1"))
            next.etag = "e2"
            next.version = 2
            try await store.replaceTwin(next, expectedEtag: original.etag)
            #expect(try await store.twin(identity("dev1")).map { exactlyEqual([$0], [next]) } == true)
            var stale = next
            stale.etag = "e3"
            await S.expectStorageError(.conflict) { try await store.replaceTwin(stale, expectedEtag: original.etag) }
            await S.expectStorageError(.conflict) { try await store.replaceTwin(stale, expectedEtag: "E2") }
            #expect(try await store.twin(identity("dev1")) == next)
            try await store.replaceTwin(stale, expectedEtag: nil)
            #expect(try await store.twin(identity("dev1"))?.etag == "e3")
            await S.expectStorageError(.notFound) { try await store.replaceTwin(sample(identity("dev1", "m")), expectedEtag: nil) }

        case .deleteTakesModuleTwinsAlong:
            for id in [identity("a"), identity("a", "m1"), identity("a", "m2"), identity("ab"), identity("ab", "m1"), identity("b")] {
                try await store.insertTwin(sample(id))
            }
            #expect(try await store.deleteTwins(of: identity("a", "m1")) == 1)
            #expect(try await store.twin(identity("a")) != nil, "a module's delete leaves the device's twin")
            #expect(try await store.deleteTwins(of: identity("a")) == 2)
            #expect(try await store.twin(identity("a", "m2")) == nil)
            #expect(try await store.deleteTwins(of: identity("a")) == 0, "deleting again deletes nothing")
            let left = try await store.twins(after: nil, limit: 100, scope: .all).map(\.identity)
            #expect(left == [identity("ab"), identity("ab", "m1"), identity("b")], "a prefix is not the device")
            // A module twin can exist without its device's (twins are created lazily), and goes with the device.
            try await store.insertTwin(sample(identity("c", "m1")))
            #expect(try await store.deleteTwins(of: identity("c")) == 1)

        case .scanPagesInIdentityOrder:
            let ids = [
                identity("b"), identity("a", "z"), identity("a"), identity("a", "B"), identity("A"), identity("a-"),
                identity("a", "a"), identity("c", "m"),
            ]
            for id in ids { try await store.insertTwin(sample(id)) }
            let expected = [
                identity("A"), identity("a"), identity("a", "B"), identity("a", "a"), identity("a", "z"), identity("a-"),
                identity("b"), identity("c", "m"),
            ]
            #expect(try await store.twins(after: nil, limit: 100, scope: .all).map(\.identity) == expected)
            for pageSize in 1...4 {
                var seen: [IdentityID] = []
                var cursor: IdentityID?
                while true {
                    let page = try await store.twins(after: cursor, limit: pageSize, scope: .all)
                    #expect(page.count <= pageSize)
                    seen += page.map(\.identity)
                    guard let last = page.last else { break }
                    cursor = last.identity
                }
                #expect(seen == expected, "page size \(pageSize)")
            }
            // A cursor that is not stored any more still works.
            #expect(try await store.twins(after: identity("a", "b"), limit: 2, scope: .all).map(\.identity) == [identity("a", "z"), identity("a-")])
            #expect(try await store.twins(after: nil, limit: 0, scope: .all).isEmpty)

        case .scanFiltersByScope:
            for id in [identity("a"), identity("a", "m"), identity("b", "m"), identity("c")] { try await store.insertTwin(sample(id)) }
            #expect(try await store.twins(after: nil, limit: 10, scope: .devices).map(\.identity) == [identity("a"), identity("c")])
            #expect(try await store.twins(after: nil, limit: 10, scope: .modules).map(\.identity) == [identity("a", "m"), identity("b", "m")])
            #expect(try await store.twins(after: identity("a"), limit: 1, scope: .devices).map(\.identity) == [identity("c")])
            #expect(try await store.twins(after: identity("a", "m"), limit: 10, scope: .modules).map(\.identity) == [identity("b", "m")])

        case .awkwardIdentifiersStayDistinct:
            var twins: [Twin] = []
            for (i, id) in S.awkwardDeviceIDs.enumerated() {
                var twin = sample(IdentityID(device: id))
                twin.etag = S.awkwardNames[i % S.awkwardNames.count]
                twins.append(twin)
                var module = sample(IdentityID(device: id, module: ModuleID(rawValue: id.rawValue)!))
                module.etag = S.awkwardNames[(i + 1) % S.awkwardNames.count]
                twins.append(module)
            }
            for twin in twins { try await store.insertTwin(twin) }
            let loaded = try await store.twins(after: nil, limit: 1000, scope: .all)
            let expected = twins.sorted { TwinOrderKey($0.identity) < TwinOrderKey($1.identity) }
            #expect(exactlyEqual(loaded, expected))
            for twin in twins {
                #expect(try await store.twin(twin.identity).map { exactlyEqual([$0], [twin]) } == true)
                try await store.replaceTwin(twin, expectedEtag: twin.etag)
            }
            #expect(try await store.twin(identity("under_scorX")) == nil)
            #expect(try await store.deleteTwins(of: identity("%_%")) == 2)
            #expect(try await store.twins(after: nil, limit: 1000, scope: .all).count == twins.count - 2)

        case .survivesReopen:
            let twins = [richSample(identity("dev1")), sample(identity("dev1", "mod1"))]
            for twin in twins { try await store.insertTwin(twin) }
            try await opened.close()
            let reopened = try await fixture.open().store
            #expect(exactlyEqual(try await reopened.twins(after: nil, limit: 10, scope: .all), twins))
            #expect(try await reopened.deleteTwins(of: identity("dev1")) == 2)
        }
    }

    // MARK: samples

    /// The identity of device `device`, or of its module `module`; both must be valid ids.
    public static func identity(_ device: String, _ module: String? = nil) -> IdentityID {
        IdentityID(device: DeviceID(rawValue: device)!, module: module.map { ModuleID(rawValue: $0)! })
    }

    /// A small twin: one tag, one desired and one reported property, with metadata.
    public static func sample(_ identity: IdentityID) -> Twin {
        let time = Timestamp(rawValue: 1_704_067_200_000)
        return Twin(
            deviceID: identity.device, moduleID: identity.module, etag: "AAAAAAAAAAI=", version: 2,
            tags: JSONObject(["fleet": .string("north")]),
            desired: TwinSection(
                properties: JSONObject(["fan": .bool(true)]), version: 2,
                metadata: TwinMetadata(
                    lastUpdated: time, lastUpdatedVersion: 2,
                    members: ["fan": TwinMetadata(lastUpdated: time, lastUpdatedVersion: 2)])),
            reported: TwinSection(version: 1, metadata: TwinMetadata(lastUpdated: time)))
    }

    /// A twin with every kind of value: nested objects, arrays, exact number texts, strings that SQL
    /// or Unicode could mangle (NUL, quotes, a decomposed "é", emoji), keys in several scripts, a model id.
    public static func richSample(_ identity: IdentityID) -> Twin {
        let t = Timestamp(rawValue: -5)
        let u = Timestamp(rawValue: 1_900_000_000_123)
        var tags = JSONObject()
        tags["cafe\u{301}"] = .string("nul\u{0}inside 'quoted' \"double\" \\ 🚁")
        tags["日本"] = .object(JSONObject(["深い": .object(JSONObject(["x": .array([.number("1.50"), .number("-0"), .number("1e3")])])), "e": .object(JSONObject())]))
        tags["n"] = .number("4503599627370495")
        var reported = JSONObject()
        reported["battery"] = .number("0.15")
        reported["fw"] = .object(JSONObject(["v": .string(""), "ok": .bool(false)]))
        return Twin(
            deviceID: identity.device, moduleID: identity.module, etag: "weird \"etag\" é", version: 4_503_599_627_370_495,
            tags: tags,
            desired: TwinSection(
                properties: JSONObject(["a": .array([.object(JSONObject(["b": .string("c")]))])]), version: 7,
                metadata: TwinMetadata(lastUpdated: u, lastUpdatedVersion: 7, members: ["a": TwinMetadata(lastUpdated: t, lastUpdatedVersion: 3)])),
            reported: TwinSection(
                properties: reported, version: 9,
                metadata: TwinMetadata(
                    lastUpdated: u,
                    members: [
                        "battery": TwinMetadata(lastUpdated: u),
                        "fw": TwinMetadata(lastUpdated: t, members: ["v": TwinMetadata(lastUpdated: t), "ok": TwinMetadata(lastUpdated: u)]),
                    ])),
            modelID: "dtmi:com:example:Thermostat;1")
    }

    /// Equal with `==`, and every string byte for byte (identifiers, etag, the stored JSON text).
    public static func exactlyEqual(_ a: [Twin], _ b: [Twin]) -> Bool {
        func bytes(_ t: Twin) -> [[UInt8]] {
            [t.deviceID.rawValue, t.moduleID?.rawValue ?? "<nil>", t.etag, t.modelID, TwinStorageCodec.encode(t)].map { Array($0.utf8) }
        }
        return a == b && a.map(bytes) == b.map(bytes)
    }
}
