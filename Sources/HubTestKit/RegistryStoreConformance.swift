import HubCore
import HubStorage
import Testing

/// The one test suite every `RegistryStore` backend must pass (in-memory, SQLite, later PostgreSQL):
///
/// ```swift
/// @Test(arguments: RegistryStoreConformance.Check.allCases)
/// func sqlite(_ check: RegistryStoreConformance.Check) async throws {
///     try await RegistryStoreConformance.run(check, on: SQLiteIdentityStoreFixture())
/// }
/// ```
///
/// Values are compared with `==` *and* string by string as UTF-8 bytes (`IdentitySamples.exactlyEqual`),
/// because `String ==` is canonical equivalence.
public enum RegistryStoreConformance {
    /// One property of the `RegistryStore` contract.
    public enum Check: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case emptyStore
        case devicesOfEveryKindRoundTrip
        case duplicateDeviceIsRefused
        case replaceComparesEtags
        case deleteComparesEtags
        case missingDeviceIsNotFound
        case moduleLifecycle
        case deleteCascadesToModules
        case pagingInByteOrder
        case counts
        case connectionStateLeavesEtagAlone
        case awkwardIdentifiersRoundTripExactly
        case survivesReopen

        public var testDescription: String { rawValue }
    }

    /// Runs one check on fresh stores of `fixture`, then tears the fixture down.
    public static func run(_ check: Check, on fixture: some IdentityStoreFixture) async throws {
        try await fixture.withStores { stores in try await run(check, stores, fixture) }
    }

    private typealias S = IdentitySamples

    private static func run(_ check: Check, _ stores: IdentityStores, _ fixture: some IdentityStoreFixture) async throws {
        let store = stores.registry
        switch check {
        case .emptyStore:
            #expect(try await store.device(S.id("nobody")) == nil)
            #expect(try await store.devices(after: nil, limit: 10).isEmpty)
            #expect(try await store.deviceCounts() == DeviceCounts(total: 0, enabled: 0, disabled: 0))
            #expect(try await store.module(S.id("nobody"), S.moduleID("m")) == nil)
            await S.expectStorageError(.notFound) { _ = try await store.modules(of: S.id("nobody")) }

        case .devicesOfEveryKindRoundTrip:
            let devices = S.devicesOfEveryKind()
            for d in devices { try await store.insertDevice(d) }
            for d in devices {
                let loaded = try await store.device(d.id)
                #expect(loaded.map { S.exactlyEqual([$0], [d]) } == true, "\(d.id) differs")
            }
            let listed = try await store.devices(after: nil, limit: 100)
            #expect(S.exactlyEqual(listed, S.byteOrdered(devices, by: \.id.rawValue)))

        case .duplicateDeviceIsRefused:
            let original = S.device(S.id("dup"))
            try await store.insertDevice(original)
            await S.expectStorageError(.duplicate) { try await store.insertDevice(S.device(S.id("dup"), etag: "other")) }
            #expect(try await store.device(S.id("dup")) == original)
            #expect(try await store.deviceCounts().total == 1)

        case .replaceComparesEtags:
            let id = S.id("cas")
            try await store.insertDevice(S.device(id, etag: "v1"))
            var v2 = S.device(id, etag: "v2", status: .disabled)
            try await store.replaceDevice(v2, expectedEtag: "v1")
            #expect(try await store.device(id) == v2)
            // A stale etag changes nothing.
            await S.expectStorageError(.conflict) { try await store.replaceDevice(S.device(id, etag: "v3"), expectedEtag: "v1") }
            #expect(try await store.device(id) == v2)
            // Etags compare byte for byte: a prefix, a case change or a canonically equivalent spelling is not a match.
            for wrong in ["v", "V2", "v2 ", ""] {
                await S.expectStorageError(.conflict) { try await store.replaceDevice(S.device(id, etag: "v9"), expectedEtag: wrong) }
            }
            // nil = unconditional.
            v2.etag = "v4"
            v2.authentication = .certificateAuthority
            try await store.replaceDevice(v2, expectedEtag: nil)
            #expect(try await store.device(id) == v2)
            // Canonically equivalent etags stay distinct.
            v2.etag = "caf\u{E9}"
            try await store.replaceDevice(v2, expectedEtag: nil)
            await S.expectStorageError(.conflict) {
                try await store.replaceDevice(S.device(id, etag: "x"), expectedEtag: "cafe\u{301}")
            }
            try await store.replaceDevice(S.device(id, etag: "x"), expectedEtag: "caf\u{E9}")

        case .deleteComparesEtags:
            let id = S.id("del")
            let stored = S.device(id, etag: "v1")
            try await store.insertDevice(stored)
            await S.expectStorageError(.conflict) { _ = try await store.deleteDevice(id, expectedEtag: "v0") }
            #expect(try await store.device(id) != nil)
            let deleted = try await store.deleteDevice(id, expectedEtag: "v1")
            #expect(S.exactlyEqual([deleted], [stored]))
            #expect(try await store.device(id) == nil)
            try await store.insertDevice(stored)
            _ = try await store.deleteDevice(id, expectedEtag: nil)
            #expect(try await store.device(id) == nil)

        case .missingDeviceIsNotFound:
            let id = S.id("ghost")
            await S.expectStorageError(.notFound) { try await store.replaceDevice(S.device(id), expectedEtag: nil) }
            await S.expectStorageError(.notFound) { try await store.replaceDevice(S.device(id), expectedEtag: "e1") }
            await S.expectStorageError(.notFound) { _ = try await store.deleteDevice(id, expectedEtag: nil) }
            await S.expectStorageError(.notFound) { _ = try await store.deleteDevice(id, expectedEtag: "e1") }
            await S.expectStorageError(.notFound) { try await store.insertModule(S.module(id, "m")) }
            #expect(try await store.device(id) == nil)

        case .moduleLifecycle:
            let device = S.id("host")
            let host = S.device(device)
            try await store.insertDevice(host)
            let modules = [S.module(device, "zeta"), S.module(device, "Alpha"), S.module(device, "edgeAgent"), S.module(device, "_x")]
            for m in modules { try await store.insertModule(m) }
            #expect(S.exactlyEqual(try await store.modules(of: device), S.byteOrdered(modules, by: \.id.rawValue)))
            await S.expectStorageError(.duplicate) { try await store.insertModule(S.module(device, "zeta", etag: "other")) }
            #expect(try await store.module(device, S.moduleID("zeta")) == modules[0])
            // Modules of one device are invisible from another.
            try await store.insertDevice(S.device(S.id("other")))
            #expect(try await store.module(S.id("other"), S.moduleID("zeta")) == nil)
            #expect(try await store.modules(of: S.id("other")).isEmpty)
            // Replace with CAS.
            var updated = S.module(device, "zeta", etag: "m2")
            updated.authentication = .selfSigned(primaryThumbprint: "P", secondaryThumbprint: "S")
            await S.expectStorageError(.conflict) { try await store.replaceModule(updated, expectedEtag: "stale") }
            try await store.replaceModule(updated, expectedEtag: "m1")
            #expect(try await store.module(device, S.moduleID("zeta")) == updated)
            updated.managedBy = "someone"
            try await store.replaceModule(updated, expectedEtag: nil)
            #expect(try await store.module(device, S.moduleID("zeta")) == updated)
            await S.expectStorageError(.notFound) {
                try await store.replaceModule(S.module(device, "missing"), expectedEtag: nil)
            }
            // Delete with CAS.
            await S.expectStorageError(.conflict) { _ = try await store.deleteModule(device, S.moduleID("zeta"), expectedEtag: "m1") }
            let deleted = try await store.deleteModule(device, S.moduleID("zeta"), expectedEtag: "m2")
            #expect(S.exactlyEqual([deleted], [updated]))
            await S.expectStorageError(.notFound) { _ = try await store.deleteModule(device, S.moduleID("zeta"), expectedEtag: nil) }
            _ = try await store.deleteModule(device, S.moduleID("Alpha"), expectedEtag: nil)
            #expect(try await store.modules(of: device).map(\.id.rawValue) == ["_x", "edgeAgent"])
            // The device itself is untouched by module writes.
            #expect(try await store.device(device) == host)

        case .deleteCascadesToModules:
            let device = S.id("parent")
            try await store.insertDevice(S.device(device))
            try await store.insertDevice(S.device(S.id("sibling")))
            for name in ["a", "b", "c"] { try await store.insertModule(S.module(device, name)) }
            try await store.insertModule(S.module(S.id("sibling"), "a"))
            _ = try await store.deleteDevice(device, expectedEtag: nil)
            #expect(try await store.module(device, S.moduleID("a")) == nil)
            await S.expectStorageError(.notFound) { _ = try await store.modules(of: device) }
            // A re-created device starts without the old modules.
            try await store.insertDevice(S.device(device))
            #expect(try await store.modules(of: device).isEmpty)
            #expect(try await store.modules(of: S.id("sibling")).count == 1)

        case .pagingInByteOrder:
            let raw = ["b", "A", "a", "_", "-", "0", "Z", "aa", "a-", "a_", "%", "(", "zx", "9", "B"]
            for r in raw.shuffled() { try await store.insertDevice(S.device(S.id(r))) }
            let expected = raw.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            var pages: [[String]] = []
            var after: DeviceID?
            while true {
                let page = try await store.devices(after: after, limit: 4)
                if page.isEmpty { break }
                pages.append(page.map(\.id.rawValue))
                after = page.last!.id
            }
            #expect(pages.flatMap { $0 } == expected)
            #expect(pages.dropLast().allSatisfy { $0.count == 4 })
            #expect(try await store.devices(after: nil, limit: 0).isEmpty)
            #expect(try await store.devices(after: nil, limit: 1000).count == raw.count)
            #expect(try await store.devices(after: S.id(expected[0]), limit: .max).count == raw.count - 1)
            #expect(try await store.devices(after: S.id(expected.last!), limit: 10).isEmpty)
            // `after` need not exist: paging resumes at the next id in byte order.
            #expect(try await store.devices(after: S.id("a0"), limit: 2).map(\.id.rawValue) == ["a_", "aa"])

        case .counts:
            for i in 0..<5 { try await store.insertDevice(S.device(S.id("on\(i)"))) }
            for i in 0..<3 { try await store.insertDevice(S.device(S.id("off\(i)"), status: .disabled)) }
            #expect(try await store.deviceCounts() == DeviceCounts(total: 8, enabled: 5, disabled: 3))
            try await store.replaceDevice(S.device(S.id("on0"), etag: "e2", status: .disabled), expectedEtag: nil)
            _ = try await store.deleteDevice(S.id("off1"), expectedEtag: nil)
            // Modules do not count as devices.
            try await store.insertModule(S.module(S.id("on1"), "m"))
            #expect(try await store.deviceCounts() == DeviceCounts(total: 7, enabled: 4, disabled: 3))

        case .connectionStateLeavesEtagAlone:
            let id = S.id("conn")
            let device = S.device(id, etag: "keep")
            try await store.insertDevice(device)
            try await store.insertModule(S.module(id, "mod", etag: "mkeep"))
            let t1 = Timestamp(rawValue: 1_700_000_001_000)
            try await store.recordConnectionState(IdentityID(device: id), .connected, at: t1)
            var expected = device
            expected.connectionState = .connected
            expected.connectionStateUpdatedTime = t1
            expected.lastActivityTime = t1
            #expect(try await store.device(id) == expected)
            // The etag still matches, so a conditional write with it succeeds.
            let mod = IdentityID(device: id, module: S.moduleID("mod"))
            let t2 = Timestamp(rawValue: 1_700_000_002_000)
            try await store.recordConnectionState(mod, .connected, at: t2)
            let loadedModule = try await store.module(id, S.moduleID("mod"))
            #expect(loadedModule?.etag == "mkeep")
            #expect(loadedModule?.connectionState == .connected)
            #expect(loadedModule?.lastActivityTime == t2)
            #expect(try await store.device(id) == expected, "a module's connection is not its device's")
            // A batch applies in order: the last record for an identity wins.
            let t3 = Timestamp(rawValue: 1_700_000_003_000)
            try await store.recordConnectionStates([
                ConnectionStateRecord(identity: IdentityID(device: id), state: .disconnected, time: t2),
                ConnectionStateRecord(identity: IdentityID(device: S.id("unknown")), state: .connected, time: t2),
                ConnectionStateRecord(identity: IdentityID(device: id, module: S.moduleID("nope")), state: .connected, time: t2),
                ConnectionStateRecord(identity: mod, state: .disconnected, time: t3),
                ConnectionStateRecord(identity: IdentityID(device: id), state: .connected, time: t3),
            ])
            expected.connectionStateUpdatedTime = t3
            expected.lastActivityTime = t3
            #expect(try await store.device(id) == expected)
            #expect(try await store.module(id, S.moduleID("mod"))?.connectionState == .disconnected)
            // Activity only: the last activity moves, the connection state and its time stay.
            let t4 = Timestamp(rawValue: 1_700_000_004_000)
            try await store.recordConnectionStates([
                ConnectionStateRecord(identity: IdentityID(device: id), state: .connected, time: t4, lastActivity: t4, activityOnly: true),
                ConnectionStateRecord(identity: mod, state: .connected, time: t4, lastActivity: t4, activityOnly: true),
            ])
            expected.lastActivityTime = t4
            #expect(try await store.device(id) == expected)
            let active = try await store.module(id, S.moduleID("mod"))
            #expect(active?.connectionState == .disconnected && active?.connectionStateUpdatedTime == t3 && active?.lastActivityTime == t4)
            // Unknown identities are ignored, not created.
            try await store.recordConnectionState(IdentityID(device: S.id("unknown")), .connected, at: t1)
            #expect(try await store.device(S.id("unknown")) == nil)
            #expect(try await store.deviceCounts().total == 1)
            try await store.replaceDevice(S.device(id, etag: "next"), expectedEtag: "keep")

        case .awkwardIdentifiersRoundTripExactly:
            var devices: [Device] = []
            for (i, id) in S.awkwardDeviceIDs.enumerated() {
                var d = S.device(id, etag: S.awkwardNames[i % S.awkwardNames.count])
                d.statusReason = S.awkwardNames[(i + 1) % S.awkwardNames.count]
                d.deviceScope = S.awkwardNames[(i + 2) % S.awkwardNames.count]
                d.parentScopes = S.awkwardNames
                d.generationID = S.awkwardNames[(i + 3) % S.awkwardNames.count]
                devices.append(d)
                try await store.insertDevice(d)
                var m = S.module(id, id.rawValue, etag: S.awkwardNames[(i + 4) % S.awkwardNames.count])
                m.managedBy = S.awkwardNames[(i + 5) % S.awkwardNames.count]
                try await store.insertModule(m)
                let loadedModule = try await store.module(id, S.moduleID(id.rawValue))
                #expect(loadedModule.map { S.exactlyEqual([$0], [m]) } == true)
            }
            // `_` and `%` are LIKE wildcards: lookups must not treat them so.
            #expect(try await store.device(S.id("abc")) == nil)
            #expect(try await store.device(S.id("a")) == nil)
            for d in devices {
                let loaded = try await store.device(d.id)
                #expect(loaded.map { S.exactlyEqual([$0], [d]) } == true, "\(d.id) differs")
            }
            let listed = try await store.devices(after: nil, limit: 1000)
            #expect(S.exactlyEqual(listed, S.byteOrdered(devices, by: \.id.rawValue)))
            // Conditional writes with etags full of quotes and semicolons work like any other.
            let first = devices[0]
            try await store.replaceDevice(S.device(first.id, etag: "'; --"), expectedEtag: first.etag)
            _ = try await store.deleteDevice(first.id, expectedEtag: "'; --")
            #expect(try await store.deviceCounts().total == devices.count - 1)

        case .survivesReopen:
            let devices = S.devicesOfEveryKind()
            for d in devices { try await store.insertDevice(d) }
            let modules = [S.module(S.id("sas"), "m1"), S.module(S.id("sas"), "m2"), S.module(S.id("ca"), "edgeAgent")]
            for m in modules { try await store.insertModule(m) }
            let t = Timestamp(rawValue: 1_700_000_000_000)
            try await store.recordConnectionState(modules[0].identity, .connected, at: t)
            _ = try await store.deleteModule(S.id("sas"), S.moduleID("m2"), expectedEtag: nil)
            let reopened = try await fixture.reopen(stores).registry
            #expect(S.exactlyEqual(try await reopened.devices(after: nil, limit: 100), S.byteOrdered(devices, by: \.id.rawValue)))
            var m1 = modules[0]
            m1.connectionState = .connected
            m1.connectionStateUpdatedTime = t
            m1.lastActivityTime = t
            #expect(S.exactlyEqual(try await reopened.modules(of: S.id("sas")), [m1]))
            #expect(S.exactlyEqual(try await reopened.modules(of: S.id("ca")), [modules[2]]))
            // The reopened store takes writes again.
            _ = try await reopened.deleteDevice(S.id("sas"), expectedEtag: "e1")
            #expect(try await reopened.deviceCounts().total == devices.count - 1)
        }
    }
}
