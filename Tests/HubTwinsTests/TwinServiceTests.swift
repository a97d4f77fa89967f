import HubCore
import HubStorage
import HubTwins
import Synchronization
import Testing

@Suite("Twin service")
struct TwinServiceTests {
    static let module1 = IdentityID(device: T.device1.device, module: ModuleID(rawValue: "mod1")!)

    static func service(_ store: any TwinStore = InMemoryTwinStore()) -> TwinService {
        TwinService(store: store, clock: { T.t1 })
    }

    @Test("a missing twin is created empty at version 1 and stored")
    func createdOnFirstRead() async throws {
        let store = InMemoryTwinStore()
        let service = Self.service(store)
        let twin = try await service.twin(of: T.device1)
        #expect(twin.version == 1 && twin.etag == "AAAAAAAAAAE=")
        #expect(twin.desired.metadata.lastUpdated == T.t1)
        #expect(try await store.twin(T.device1) == twin)
        #expect(try await service.twin(of: T.device1) == twin)
        #expect(T.text(try await service.deviceTwinBody(of: T.device1)) == #"{"desired":{"$version":1},"reported":{"$version":1}}"#)
    }

    @Test("If-Match: absent, * and \"*\" mean any; etags compare without quotes; a stale one fails", arguments: [
        (nil as String?, true), ("*", true), ("\"*\"", true), ("\"AAAAAAAAAAE=\"", true), ("AAAAAAAAAAE=", true),
        (" \"AAAAAAAAAAE=\" ", true), ("W/\"AAAAAAAAAAE=\"", true), ("\"AAAAAAAAAAI=\"", false), ("\"aaaaaaaaaae=\"", false),
    ])
    func ifMatch(header: String?, accepted: Bool) async throws {
        let service = Self.service()
        let patch = T.json(#"{"tags":{"a":1}}"#)
        if accepted {
            let twin = try await service.updateTwin(of: T.device1, patch: patch, ifMatch: header)
            #expect(twin.version == 2 && twin.tags["a"] == .int(1))
        } else {
            await #expect(throws: TwinError.self) { try await service.updateTwin(of: T.device1, patch: patch, ifMatch: header) }
            #expect(try await service.twin(of: T.device1).version == 1)
        }
    }

    @Test("patch, replace and reported writes are stored; a refused one stores nothing")
    func writes() async throws {
        let store = InMemoryTwinStore()
        let service = Self.service(store)
        var twin = try await service.updateTwin(
            of: T.device1, patch: T.json(#"{"tags":{"a":1},"properties":{"desired":{"x":1}}}"#), ifMatch: nil)
        #expect(try await store.twin(T.device1) == twin)
        #expect(try await service.updateReportedProperties(of: T.device1, patch: T.json(#"{"r":1}"#)) == 2)
        #expect(try await service.updateReportedProperties(of: T.device1, patch: T.json("{}")) == 2)
        twin = try await service.replaceTwin(of: T.device1, with: T.json(#"{"tags":{"b":2}}"#), ifMatch: "\"\(Twin.etag(forVersion: 3))\"")
        #expect(twin.version == 4)
        #expect(twin.tags == T.object(#"{"b":2}"#) && twin.desired.properties.members.isEmpty)
        #expect(twin.reported.properties == T.object(#"{"r":1}"#))
        let before = try await store.twin(T.device1)
        await #expect(throws: TwinError.self) {
            try await service.updateTwin(of: T.device1, patch: T.json(#"{"properties":{"reported":{"r":2}}}"#), ifMatch: nil)
        }
        await #expect(throws: TwinError.self) { try await service.updateReportedProperties(of: T.device1, patch: T.json(#"{"a.b":1}"#)) }
        #expect(try await store.twin(T.device1) == before)
    }

    @Test("observers hear about desired changes after they are stored, with the body and version")
    func observers() async throws {
        let store = InMemoryTwinStore()
        let service = Self.service(store)
        let heard = Mutex<[(IdentityID, String, Int64)]>([])
        let token = service.addDesiredObserver { identity, body, version in
            heard.withLock { $0.append((identity, T.text(body), version)) }
        }
        _ = try await service.updateTwin(of: Self.module1, patch: T.json(#"{"properties":{"desired":{"fan":true,"old":null}}}"#), ifMatch: nil)
        _ = try await service.updateTwin(of: Self.module1, patch: T.json(#"{"tags":{"t":1}}"#), ifMatch: nil)
        _ = try await service.updateReportedProperties(of: Self.module1, patch: T.json(#"{"r":1}"#))
        _ = try await service.replaceTwin(of: Self.module1, with: T.json(#"{"properties":{"desired":{"fan":false}}}"#), ifMatch: "*")
        _ = try await service.replaceTwin(of: Self.module1, with: T.json(#"{"properties":{"desired":{"fan":false}}}"#), ifMatch: "*")
        let calls = heard.withLock { $0 }
        #expect(calls.map(\.0) == [Self.module1, Self.module1])
        #expect(calls.map(\.1) == [#"{"fan":true,"old":null,"$version":2}"#, #"{"fan":false,"$version":3}"#])
        #expect(calls.map(\.2) == [2, 3])
        service.removeDesiredObserver(token)
        _ = try await service.updateTwin(of: Self.module1, patch: T.json(#"{"properties":{"desired":{"fan":1}}}"#), ifMatch: nil)
        #expect(heard.withLock { $0.count } == 2)
    }

    @Test("deleting a device's twins takes its modules' along; the next read starts over")
    func delete() async throws {
        let store = InMemoryTwinStore()
        let service = Self.service(store)
        _ = try await service.updateTwin(of: T.device1, patch: T.json(#"{"tags":{"a":1}}"#), ifMatch: nil)
        _ = try await service.updateTwin(of: Self.module1, patch: T.json(#"{"tags":{"a":1}}"#), ifMatch: nil)
        try await service.deleteTwins(of: T.device1)
        #expect(try await store.twin(Self.module1) == nil)
        #expect(try await service.twin(of: T.device1).version == 1)
        try await service.deleteTwins(of: T.device1)
    }

    @Test("two patches with the same etag at once: one wins, the other gets preconditionFailed", arguments: 0..<5)
    func sameEtagRace(round: Int) async throws {
        let store = SlowReadTwinStore()
        let service = Self.service(store)
        let etag = try await service.twin(of: T.device1).etag
        async let first = Self.outcome { try await service.updateTwin(of: T.device1, patch: T.json(#"{"tags":{"w":1}}"#), ifMatch: "\"\(etag)\"") }
        async let second = Self.outcome { try await service.updateTwin(of: T.device1, patch: T.json(#"{"tags":{"w":2}}"#), ifMatch: "\"\(etag)\"") }
        let outcomes = await [first, second]
        #expect(outcomes.filter { $0 == nil }.count == 1, "exactly one wins: \(outcomes)")
        #expect(outcomes.compactMap { $0 } == [.preconditionFailed])
        let twin = try await service.twin(of: T.device1)
        #expect(twin.version == 2)
        #expect(store.conflicts.withLock { $0 } <= 1)
    }

    @Test("a write that loses the compare-and-swap: preconditionFailed with If-Match, retried without")
    func lostSwap() async throws {
        let store = InterferingTwinStore()
        let service = Self.service(store)
        let etag = try await service.twin(of: T.device1).etag
        store.interfere.withLock { $0 = true }
        let error = await #expect(throws: TwinError.self) {
            try await service.updateTwin(of: T.device1, patch: T.json(#"{"tags":{"mine":1}}"#), ifMatch: "\"\(etag)\"")
        }
        #expect(error?.code == .preconditionFailed)
        #expect(try await service.twin(of: T.device1).tags == T.object(#"{"other":1}"#))

        store.interfere.withLock { $0 = true }
        let twin = try await service.updateTwin(of: T.device1, patch: T.json(#"{"tags":{"mine":1}}"#), ifMatch: nil)
        #expect(twin.tags == T.object(#"{"other":2,"mine":1}"#), "retried on top of the other writer's change")
        #expect(twin.version == 4)
    }

    @Test("concurrent writes without If-Match all land, each exactly once")
    func wildcardRace() async throws {
        let store = SlowReadTwinStore()
        let service = Self.service(store)
        let versions = Mutex<[Int64]>([])
        service.addDesiredObserver { _, _, version in versions.withLock { $0.append(version) } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                group.addTask {
                    _ = try await service.updateTwin(of: T.device1, patch: T.json(#"{"properties":{"desired":{"k\#(i)":\#(i)}}}"#), ifMatch: "*")
                }
            }
            try await group.waitForAll()
        }
        let twin = try await service.twin(of: T.device1)
        #expect(twin.desired.properties.members.count == 8)
        #expect(twin.version == 9 && twin.desired.version == 9)
        #expect(versions.withLock { $0 }.sorted() == Array(2...9))
    }

    @Test("storage failures surface as unavailable with the storage error attached")
    func storageFailure() async throws {
        let service = Self.service(FailingTwinStore())
        let error = await #expect(throws: TwinError.self) { try await service.twin(of: T.device1) }
        #expect(error?.code == .unavailable)
        #expect(error?.storageError?.code == .diskFull)
    }

    /// nil on success, else the twin error's code.
    static func outcome(_ body: () async throws -> Twin) async -> TwinError.Code? {
        do {
            _ = try await body()
            return nil
        } catch let error as TwinError {
            return error.code
        } catch {
            return .unavailable
        }
    }
}

/// An in-memory store whose reads take a while, so concurrent writers all read the same version
/// before any of them stores (the race compare-and-swap must settle). Counts lost swaps.
final class SlowReadTwinStore: TwinStore {
    let inner = InMemoryTwinStore()
    let conflicts = Mutex(0)

    func twin(_ identity: IdentityID) async throws(StorageError) -> Twin? {
        let twin = try await inner.twin(identity)
        try? await Task.sleep(for: .milliseconds(20))
        return twin
    }
    func insertTwin(_ twin: Twin) async throws(StorageError) { try await inner.insertTwin(twin) }
    func replaceTwin(_ twin: Twin, expectedEtag: String?) async throws(StorageError) {
        do {
            try await inner.replaceTwin(twin, expectedEtag: expectedEtag)
        } catch {
            conflicts.withLock { $0 += 1 }
            throw error
        }
    }
    func deleteTwins(of identity: IdentityID) async throws(StorageError) -> Int { try await inner.deleteTwins(of: identity) }
    func twins(after: IdentityID?, limit: Int, scope: TwinScope) async throws(StorageError) -> [Twin] {
        try await inner.twins(after: after, limit: limit, scope: scope)
    }
}

/// An in-memory store that, when `interfere` is set, lets another writer change the twin just before
/// the next compare-and-swap (once), so that swap is lost.
final class InterferingTwinStore: TwinStore {
    let inner = InMemoryTwinStore()
    let interfere = Mutex(false)
    private let otherWrites = Mutex(0)

    func twin(_ identity: IdentityID) async throws(StorageError) -> Twin? { try await inner.twin(identity) }
    func insertTwin(_ twin: Twin) async throws(StorageError) { try await inner.insertTwin(twin) }
    func replaceTwin(_ twin: Twin, expectedEtag: String?) async throws(StorageError) {
        let now = interfere.withLock { flag in
            defer { flag = false }
            return flag
        }
        if now, let current = try await inner.twin(twin.identity) {
            let n = otherWrites.withLock { count in
                count += 1
                return count
            }
            var other = current
            other.tags = JSONObject(["other": .int(n)])
            other.version += 1
            other.etag = Twin.etag(forVersion: other.version)
            try await inner.replaceTwin(other, expectedEtag: current.etag)
        }
        try await inner.replaceTwin(twin, expectedEtag: expectedEtag)
    }
    func deleteTwins(of identity: IdentityID) async throws(StorageError) -> Int { try await inner.deleteTwins(of: identity) }
    func twins(after: IdentityID?, limit: Int, scope: TwinScope) async throws(StorageError) -> [Twin] {
        try await inner.twins(after: after, limit: limit, scope: scope)
    }
}

/// A store whose disk is always full.
struct FailingTwinStore: TwinStore {
    static let error = StorageError(.diskFull, "test: the disk is full")
    func twin(_ identity: IdentityID) async throws(StorageError) -> Twin? { nil }
    func insertTwin(_ twin: Twin) async throws(StorageError) { throw Self.error }
    func replaceTwin(_ twin: Twin, expectedEtag: String?) async throws(StorageError) { throw Self.error }
    func deleteTwins(of identity: IdentityID) async throws(StorageError) -> Int { throw Self.error }
    func twins(after: IdentityID?, limit: Int, scope: TwinScope) async throws(StorageError) -> [Twin] { throw Self.error }
}
