import HubCore
import HubStorage
import Testing

/// An alarm storage backend prepared for `AlarmStoreConformance`.
///
/// `open()` gives an empty store the first time; after `close` of the previous one it opens the *same*
/// data again (the restart check). Backends that keep nothing across a close (in-memory) return the
/// same instance each time.
public protocol AlarmStoreFixture: Sendable {
    /// A short name for test output (`in-memory`, `sqlite`).
    var name: String { get }
    func open() async throws -> OpenedAlarmStore
    /// Closes whatever is still open and removes whatever the fixture created.
    func tearDown() async throws
}

/// A store and how to close its backend.
public struct OpenedAlarmStore: Sendable {
    public var store: any AlarmStore
    public var close: @Sendable () async throws -> Void

    public init(store: any AlarmStore, close: @escaping @Sendable () async throws -> Void = {}) {
        self.store = store
        self.close = close
    }
}

/// The in-memory backend: the reference the others must match.
public struct InMemoryAlarmStoreFixture: AlarmStoreFixture {
    public let name = "in-memory"
    private let store = InMemoryAlarmStore()

    public init() {}
    public func open() async throws -> OpenedAlarmStore { OpenedAlarmStore(store: store) }
    public func tearDown() async throws {}
}

/// The one test suite every `AlarmStore` backend must pass:
///
/// ```swift
/// @Test(arguments: AlarmStoreConformance.Check.allCases)
/// func sqlite(_ check: AlarmStoreConformance.Check) async throws {
///     try await AlarmStoreConformance.run(check, on: SQLiteAlarmStoreFixture())
/// }
/// ```
///
/// The contract: one active (not cleared) alarm per (source, type, device), compared byte for byte; a
/// repeat counts on it; a clear ends it, so the next raise of the key opens a new alarm with a new id;
/// listings are newest last occurrence first (the newer id first on a tie).
public enum AlarmStoreConformance {
    public enum Check: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case emptyStore
        case newAlarmHasEveryField
        case repeatUpdatesTheActiveAlarm
        case keyIsSourceTypeAndDevice
        case clearThenRaiseCreatesNew
        case acknowledgeAndClearAreIdempotent
        case acknowledgementSurvivesRepeats
        case filtersByStatus
        case filtersByFields
        case newestFirstWithinLimit
        case countsActiveBySeverity
        case raisedCountsPerDeviceInARange
        case detailsRoundTrip
        case tooDeepDetailsAreRefused
        case awkwardStringsStayExact
        case concurrentRaisesCountOnOneAlarm
        case batchRaiseIsAllOrNothing
        case survivesReopen

        public var testDescription: String { rawValue }
    }

    public static func run(_ check: Check, on fixture: some AlarmStoreFixture) async throws {
        let opened = try await fixture.open()
        do {
            try await run(check, opened, fixture)
        } catch {
            try? await fixture.tearDown()
            throw error
        }
        try await fixture.tearDown()
    }

    // MARK: samples

    /// A fixed instant plus `ms` milliseconds.
    public static func time(_ ms: Int64) -> Timestamp { Timestamp(rawValue: 1_700_000_000_000 + ms) }

    /// A raise of `type` by `source` for `device` at `time(ms)`.
    public static func raise(
        _ type: String = "lowBattery", source: String = "job:drones", device: String = "drone-1", severity: AlarmSeverity = .major,
        message: String? = "battery low", details: JSONValue = .null, at ms: Int64 = 0
    ) -> AlarmRaise {
        AlarmRaise(type: type, source: source, deviceID: device, severity: severity, message: message, details: details, time: time(ms))
    }

    /// Details with every JSON shape, numbers whose text must survive exactly, and members out of order.
    public static let richDetails: JSONValue = .object(
        JSONObject([
            "z": .number("1"), "battery": .number("0.070"), "big": .number("12345678901234567890123"), "exp": .number("-1.5E+300"),
            "ok": .bool(false), "yes": .bool(true), "none": .null, "text": .string("quote \" backslash \\ tab \t nul \u{0} é 🚁"),
            "empty": .string(""), "list": .array([.number("1"), .string("two"), .array([]), .object(JSONObject())]),
            "nested": .object(JSONObject(["b": .number("2"), "a": .object(JSONObject(["deep": .array([.null])]))])),
        ]))

    private static let active = AlarmStatus(cleared: false, acknowledged: false)

    private static func filter(_ configure: (inout AlarmFilter) -> Void) -> AlarmFilter {
        var filter = AlarmFilter()
        configure(&filter)
        return filter
    }

    private static func exact(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

    // MARK: checks

    private static func run(_ check: Check, _ opened: OpenedAlarmStore, _ fixture: some AlarmStoreFixture) async throws {
        let store = opened.store
        switch check {
        case .emptyStore:
            #expect(try await store.alarm(1) == nil)
            #expect(try await store.alarms(AlarmFilter()).isEmpty)
            #expect(try await store.counts().values.allSatisfy { $0 == 0 })
            #expect(try await store.acknowledge(1, at: time(0)) == nil)
            #expect(try await store.clear(1, at: time(0)) == nil)
            #expect(try await store.alarms(AlarmFilter()).isEmpty, "acknowledging or clearing nothing creates nothing")

        case .newAlarmHasEveryField:
            let raised = try await store.raise(raise(severity: .critical, details: richDetails, at: 5))
            let expected = Alarm(
                id: raised.id, type: "lowBattery", source: "job:drones", deviceID: "drone-1", severity: .critical, status: active,
                message: "battery low", details: richDetails, count: 1, firstOccurrence: time(5), lastOccurrence: time(5))
            #expect(raised == expected)
            #expect(try await store.alarm(raised.id) == expected)
            #expect(try await store.alarms(AlarmFilter()) == [expected])
            let bare = try await store.raise(raise("noSignal", source: "rule:x", device: "", message: nil, at: 6))
            #expect(bare.id != raised.id)
            #expect(bare.message == nil && bare.deviceID == "" && bare.details == .null)
            #expect(try await store.alarm(bare.id) == bare)
            #expect(try await store.alarm(raised.id + bare.id + 100) == nil)

        case .repeatUpdatesTheActiveAlarm:
            let first = try await store.raise(raise(severity: .warning, message: "low", details: .object(JSONObject(["v": .number("20")])), at: 10))
            let second = try await store.raise(raise(severity: .critical, message: nil, details: .object(JSONObject(["v": .number("5")])), at: 30))
            let expected = Alarm(
                id: first.id, type: "lowBattery", source: "job:drones", deviceID: "drone-1", severity: .critical, status: active, message: nil,
                details: .object(JSONObject(["v": .number("5")])), count: 2, firstOccurrence: time(10), lastOccurrence: time(30))
            #expect(second == expected)
            #expect(try await store.alarm(first.id) == expected)
            let third = try await store.raise(raise(severity: .info, message: "again", at: 40))
            #expect(third.id == first.id && third.count == 3 && third.severity == .info && third.message == "again")
            #expect(third.firstOccurrence == time(10) && third.lastOccurrence == time(40) && third.details == .null)
            #expect(try await store.alarms(AlarmFilter()).count == 1, "repeats never add alarms")

        case .keyIsSourceTypeAndDevice:
            let base = try await store.raise(raise())
            let others = [
                raise("highTemperature"), raise(source: "job:other"), raise(device: "drone-2"), raise(device: ""),
                raise("LowBattery"), raise(device: "Drone-1"),
            ]
            var ids: Set<Int64> = [base.id]
            for other in others {
                let alarm = try await store.raise(other)
                #expect(alarm.count == 1, "\(other.type) \(other.source) \(other.deviceID) is another key")
                ids.insert(alarm.id)
            }
            #expect(ids.count == others.count + 1, "every key has its own alarm and id")
            #expect(try await store.raise(raise(severity: .minor, at: 1)).id == base.id, "severity is not part of the key")
            #expect(try await store.alarm(base.id)?.count == 2)

        case .clearThenRaiseCreatesNew:
            let first = try await store.raise(raise(at: 1))
            _ = try await store.raise(raise(at: 2))
            let cleared = try #require(try await store.clear(first.id, at: time(3)))
            #expect(cleared.status == AlarmStatus(cleared: true, acknowledged: false))
            #expect(cleared.clearedTime == time(3) && cleared.acknowledgedTime == nil)
            #expect(cleared.count == 2 && cleared.lastOccurrence == time(2), "a clear is not an occurrence")
            let next = try await store.raise(raise(severity: .minor, at: 4))
            #expect(next.id != first.id && next.id > first.id, "ids only grow")
            #expect(next.count == 1 && next.status == active && next.firstOccurrence == time(4) && next.clearedTime == nil)
            #expect(try await store.alarm(first.id) == cleared, "the cleared alarm is left as it was")
            #expect(try await store.raise(raise(at: 5)).id == next.id, "repeats count on the new alarm")
            #expect(try await store.alarm(first.id) == cleared)
            // Clearing the new one and raising again makes a third.
            _ = try await store.clear(next.id, at: time(6))
            let third = try await store.raise(raise(at: 7))
            #expect(Set([first.id, next.id, third.id]).count == 3)
            #expect(try await store.alarms(AlarmFilter()).map(\.id) == [third.id, next.id, first.id])

        case .acknowledgeAndClearAreIdempotent:
            let alarm = try await store.raise(raise(at: 1))
            let acknowledged = try #require(try await store.acknowledge(alarm.id, at: time(2)))
            #expect(acknowledged.status == AlarmStatus(cleared: false, acknowledged: true))
            #expect(acknowledged.acknowledgedTime == time(2) && acknowledged.clearedTime == nil)
            #expect(try await store.acknowledge(alarm.id, at: time(3)) == acknowledged, "acknowledging again changes nothing")
            let cleared = try #require(try await store.clear(alarm.id, at: time(4)))
            #expect(cleared.status == AlarmStatus(cleared: true, acknowledged: true))
            #expect(cleared.acknowledgedTime == time(2) && cleared.clearedTime == time(4))
            #expect(try await store.clear(alarm.id, at: time(5)) == cleared, "clearing again changes nothing")
            #expect(try await store.acknowledge(alarm.id, at: time(6)) == cleared)
            #expect(try await store.alarm(alarm.id) == cleared)
            // A cleared alarm can still be acknowledged.
            let other = try await store.raise(raise(device: "drone-2", at: 7))
            _ = try await store.clear(other.id, at: time(8))
            let late = try #require(try await store.acknowledge(other.id, at: time(9)))
            #expect(late.status == AlarmStatus(cleared: true, acknowledged: true))
            #expect(late.acknowledgedTime == time(9) && late.clearedTime == time(8))
            // Unknown ids.
            for id: Int64 in [0, -1, alarm.id + other.id + 1000, .max] {
                #expect(try await store.acknowledge(id, at: time(10)) == nil)
                #expect(try await store.clear(id, at: time(10)) == nil)
                #expect(try await store.alarm(id) == nil)
            }
            #expect(try await store.alarms(AlarmFilter()).count == 2)

        case .acknowledgementSurvivesRepeats:
            let alarm = try await store.raise(raise(at: 1))
            _ = try await store.acknowledge(alarm.id, at: time(2))
            let repeated = try await store.raise(raise(severity: .critical, at: 3))
            #expect(repeated.id == alarm.id && repeated.count == 2)
            #expect(repeated.status == AlarmStatus(cleared: false, acknowledged: true), "a repeat leaves the acknowledgement")
            #expect(repeated.acknowledgedTime == time(2))
            #expect(try await store.alarm(alarm.id) == repeated)

        case .filtersByStatus:
            // One alarm in each of the four states.
            let unacknowledged = try await store.raise(raise(device: "a", at: 1))
            let acknowledged = try await store.raise(raise(device: "b", at: 2))
            let clearedOnly = try await store.raise(raise(device: "c", at: 3))
            let both = try await store.raise(raise(device: "d", at: 4))
            _ = try await store.acknowledge(acknowledged.id, at: time(10))
            _ = try await store.clear(clearedOnly.id, at: time(11))
            _ = try await store.acknowledge(both.id, at: time(12))
            _ = try await store.clear(both.id, at: time(13))
            let byStatus: [(String, Int64)] = [
                ("active-unacknowledged", unacknowledged.id), ("active-acknowledged", acknowledged.id),
                ("cleared-unacknowledged", clearedOnly.id), ("cleared-acknowledged", both.id),
            ]
            for (name, id) in byStatus {
                let status = try #require(AlarmStatus(rawValue: name))
                let found = try await store.alarms(filter { $0.status = status })
                #expect(found.map(\.id) == [id], "status \(name)")
                #expect(found.first?.status.rawValue == name)
            }
            #expect(try await store.alarms(filter { $0.activeOnly = true }).map(\.id) == [acknowledged.id, unacknowledged.id])
            #expect(try await store.alarms(filter { $0.clearedOnly = true }).map(\.id) == [both.id, clearedOnly.id])
            #expect(try await store.alarms(AlarmFilter()).map(\.id) == [both.id, clearedOnly.id, acknowledged.id, unacknowledged.id])
            // activeOnly with a cleared status matches nothing; with an active status it narrows nothing.
            #expect(try await store.alarms(filter { $0.activeOnly = true; $0.status = AlarmStatus(cleared: true, acknowledged: true) }).isEmpty)
            #expect(
                try await store.alarms(filter { $0.activeOnly = true; $0.status = AlarmStatus(cleared: false, acknowledged: true) }).map(\.id)
                    == [acknowledged.id])

        case .filtersByFields:
            let a = try await store.raise(raise("lowBattery", source: "job:drones", device: "d1", severity: .critical, at: 1))
            let b = try await store.raise(raise("lowBattery", source: "job:drones", device: "d2", severity: .major, at: 2))
            let c = try await store.raise(raise("highTemperature", source: "job:drones", device: "d1", severity: .major, at: 3))
            let d = try await store.raise(raise("lowBattery", source: "rule:battery", device: "d1", severity: .info, at: 4))
            let e = try await store.raise(raise("lowBattery", source: "rule:battery", device: "", severity: .warning, at: 5))
            #expect(try await store.alarms(filter { $0.severity = .major }).map(\.id) == [c.id, b.id])
            #expect(try await store.alarms(filter { $0.severity = .minor }).isEmpty)
            #expect(try await store.alarms(filter { $0.deviceID = "d1" }).map(\.id) == [d.id, c.id, a.id])
            #expect(try await store.alarms(filter { $0.deviceID = "" }).map(\.id) == [e.id], "\"\" is the alarms without a device")
            #expect(try await store.alarms(filter { $0.deviceID = "D1" }).isEmpty, "device ids are case-sensitive")
            #expect(try await store.alarms(filter { $0.source = "rule:battery" }).map(\.id) == [e.id, d.id])
            #expect(try await store.alarms(filter { $0.source = "job:" }).isEmpty, "no prefix matching")
            #expect(try await store.alarms(filter { $0.type = "lowBattery" }).map(\.id) == [e.id, d.id, b.id, a.id])
            #expect(try await store.alarms(filter { $0.type = "lowbattery" }).isEmpty)
            #expect(try await store.alarms(filter { $0.type = "%" }).isEmpty, "no LIKE patterns")
            #expect(try await store.alarms(filter { $0.type = "lowBattery"; $0.deviceID = "d1"; $0.source = "job:drones" }).map(\.id) == [a.id])
            #expect(try await store.alarms(filter { $0.severity = .major; $0.deviceID = "d1" }).map(\.id) == [c.id])
            _ = try await store.clear(c.id, at: time(6))
            #expect(try await store.alarms(filter { $0.severity = .major; $0.activeOnly = true }).map(\.id) == [b.id])

        case .newestFirstWithinLimit:
            var ids: [Int64] = []
            for n in 0..<12 { ids.append(try await store.raise(raise(device: "d\(n)", at: Int64(n) * 10)).id) }
            let newestFirst = Array(ids.reversed())
            #expect(try await store.alarms(AlarmFilter()).map(\.id) == newestFirst)
            #expect(try await store.alarms(filter { $0.limit = 5 }).map(\.id) == Array(newestFirst.prefix(5)))
            #expect(try await store.alarms(filter { $0.limit = 1 }).map(\.id) == [newestFirst[0]])
            #expect(try await store.alarms(filter { $0.limit = 1000 }).map(\.id) == newestFirst)
            // A repeat moves an alarm to the front; a raise with an older time than others sorts by that time.
            _ = try await store.raise(raise(device: "d3", at: 500))
            #expect(try await store.alarms(filter { $0.limit = 2 }).map(\.id) == [ids[3], ids[11]])
            let old = try await store.raise(raise(device: "old", at: -100))
            #expect(try await store.alarms(AlarmFilter()).last?.id == old.id)
            // Same last occurrence: the newer alarm first.
            let tieA = try await store.raise(raise(device: "tie-a", at: 1000))
            let tieB = try await store.raise(raise(device: "tie-b", at: 1000))
            #expect(try await store.alarms(filter { $0.limit = 2 }).map(\.id) == [tieB.id, tieA.id])
            // The limit applies after filtering.
            #expect(try await store.alarms(filter { $0.deviceID = "d0"; $0.limit = 1 }).map(\.id) == [ids[0]])

        case .countsActiveBySeverity:
            #expect(try await store.counts().values.reduce(0, +) == 0)
            let a = try await store.raise(raise(device: "a", severity: .critical))
            _ = try await store.raise(raise(device: "b", severity: .critical))
            _ = try await store.raise(raise(device: "c", severity: .minor))
            let d = try await store.raise(raise(device: "d", severity: .info))
            _ = try await store.raise(raise(device: "a", severity: .critical, at: 1))  // a repeat is not another alarm
            func nonZero() async throws -> [AlarmSeverity: Int] { try await store.counts().filter { $0.value != 0 } }
            #expect(try await nonZero() == [.critical: 2, .minor: 1, .info: 1])
            _ = try await store.acknowledge(d.id, at: time(2))
            #expect(try await nonZero() == [.critical: 2, .minor: 1, .info: 1], "acknowledged alarms are still active")
            _ = try await store.clear(d.id, at: time(3))
            #expect(try await nonZero() == [.critical: 2, .minor: 1])
            _ = try await store.raise(raise(device: "a", severity: .warning, at: 4))  // a repeat moves the alarm's severity
            #expect(try await nonZero() == [.critical: 1, .minor: 1, .warning: 1])
            _ = try await store.clear(a.id, at: time(5))
            _ = try await store.raise(raise(device: "a", severity: .major, at: 6))
            #expect(try await nonZero() == [.critical: 1, .minor: 1, .major: 1])

        case .raisedCountsPerDeviceInARange:
            #expect(try await store.raisedCounts(from: time(0), to: time(1000)).isEmpty)
            let a = try await store.raise(raise(device: "a", at: 10))
            _ = try await store.raise(raise(device: "a", at: 20))  // a repeat: still one alarm raised
            _ = try await store.raise(raise("overheat", device: "a", at: 30))
            _ = try await store.raise(raise(device: "b", at: 999))
            _ = try await store.raise(raise(device: "c", at: 1000))  // the end is exclusive
            _ = try await store.clear(a.id, at: time(40))
            _ = try await store.raise(raise(device: "a", at: 50))  // after a clear: a new alarm
            #expect(try await store.raisedCounts(from: time(0), to: time(1000)) == ["a": 3, "b": 1])
            #expect(try await store.raisedCounts(from: time(15), to: time(1001)) == ["a": 2, "b": 1, "c": 1])

        case .detailsRoundTrip:
            let deep = (0..<20).reduce(JSONValue.string("bottom")) { inner, n in
                n.isMultiple(of: 2) ? .array([inner]) : .object(JSONObject(["level": inner]))
            }
            let samples: [JSONValue] = [
                richDetails, deep, .null, .bool(true), .number("-0"), .number("3.14159265358979323846264338327950288"),
                .string("just text"), .array([]), .object(JSONObject()),
            ]
            for (n, details) in samples.enumerated() {
                let raised = try await store.raise(raise(device: "d\(n)", details: details))
                #expect(raised.details == details, "sample \(n) as returned")
                #expect(try await store.alarm(raised.id)?.details == details, "sample \(n) as stored")
                #expect(try await store.alarm(raised.id).map { JSONWriter.string($0.details) } == JSONWriter.string(details))
            }
            // A repeat replaces the details wholesale (no merge).
            let replaced = try await store.raise(raise(device: "d0", details: .object(JSONObject(["only": .bool(true)])), at: 1))
            #expect(try await store.alarm(replaced.id)?.details == .object(JSONObject(["only": .bool(true)])))

        case .batchRaiseIsAllOrNothing:
            // In order, repeats counting on the alarm the batch itself created.
            let raised = try await store.raise([raise(at: 1), raise(device: "drone-2", at: 2), raise(severity: .critical, at: 3)])
            #expect(raised.map(\.count) == [1, 1, 2])
            #expect(raised[0].id == raised[2].id && raised[2].severity == .critical)
            #expect(try await store.alarms(AlarmFilter()).count == 2)
            // One refused raise (details nested too deeply) stores none of the batch.
            let tooDeep = (0...JSONParser.maximumDepth).reduce(JSONValue.null) { inner, _ in .array([inner]) }
            await IdentitySamples.expectStorageError(.conflict) {
                _ = try await store.raise([raise(device: "drone-3", at: 4), raise(device: "drone-4", details: tooDeep, at: 5)])
            }
            #expect(try await store.alarms(AlarmFilter()).count == 2, "nothing of a refused batch is stored")

        case .tooDeepDetailsAreRefused:
            func nested(_ levels: Int) -> JSONValue {
                (0..<levels).reduce(JSONValue.number("1")) { inner, n in n.isMultiple(of: 2) ? .array([inner]) : .object(JSONObject(["k": inner])) }
            }
            let deepest = nested(JSONParser.maximumDepth)
            let kept = try await store.raise(raise(details: deepest))
            #expect(try await store.alarm(kept.id)?.details == deepest, "\(JSONParser.maximumDepth) levels are kept")
            await IdentitySamples.expectStorageError(.conflict) { _ = try await store.raise(raise(details: nested(JSONParser.maximumDepth + 1), at: 1)) }
            await IdentitySamples.expectStorageError(.conflict) { _ = try await store.raise(raise(device: "other", details: nested(1_000))) }
            #expect(try await store.alarms(AlarmFilter()).map(\.count) == [1], "a refused raise changes nothing")

        case .awkwardStringsStayExact:
            // Canonically equivalent (Swift `==`) but different bytes: different keys, as in a SQL backend.
            let composed = try await store.raise(raise("caf\u{E9}", source: "rule:\u{E9}", device: "d\u{E9}"))
            let decomposed = try await store.raise(raise("cafe\u{301}", source: "rule:e\u{301}", device: "de\u{301}"))
            #expect(composed.id != decomposed.id, "canonically equivalent keys are distinct alarms")
            #expect(decomposed.count == 1)
            let stored = try #require(try await store.alarm(decomposed.id))
            #expect(exact(stored.type, "cafe\u{301}") && exact(stored.source, "rule:e\u{301}") && exact(stored.deviceID, "de\u{301}"))
            #expect(try await store.alarms(filter { $0.deviceID = "d\u{E9}" }).map(\.id) == [composed.id])
            #expect(try await store.alarms(filter { $0.type = "cafe\u{301}" }).map(\.id) == [decomposed.id])
            #expect(try await store.alarms(filter { $0.source = "rule:\u{E9}" }).map(\.id) == [composed.id])
            // Quotes, wildcards, NUL, long and empty strings are data, kept exactly.
            let odd = [
                ("it's", "x'); DROP TABLE alarm; --", "%_*"), ("nul\u{0}type", "src\u{0}", "dev\u{0}ice"), ("", "", ""),
                (String(repeating: "t", count: 4096), "🚁 job", "drone/1?&#"),
            ]
            for (type, source, device) in odd {
                let alarm = try await store.raise(raise(type, source: source, device: device, message: "m \(type.prefix(3))"))
                let again = try await store.raise(raise(type, source: source, device: device, at: 1))
                #expect(again.id == alarm.id && again.count == 2)
                let loaded = try #require(try await store.alarm(alarm.id))
                #expect(exact(loaded.type, type) && exact(loaded.source, source) && exact(loaded.deviceID, device))
                #expect(try await store.alarms(filter { $0.type = type; $0.source = source; $0.deviceID = device }).map(\.id) == [alarm.id])
            }
            #expect(try await store.alarms(filter { $0.limit = 1000 }).count == 2 + odd.count)

        case .concurrentRaisesCountOnOneAlarm:
            // The find-or-create of a raise is atomic: racing raises of one key never make two alarms.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<40 {
                    group.addTask { _ = try await store.raise(raise(device: "d\(n % 2)", at: Int64(n))) }
                }
                try await group.waitForAll()
            }
            let alarms = try await store.alarms(AlarmFilter())
            #expect(alarms.count == 2)
            #expect(alarms.map(\.count) == [20, 20])
            #expect(alarms.allSatisfy { $0.firstOccurrence <= $0.lastOccurrence })

        case .survivesReopen:
            let kept = try await store.raise(raise(device: "a", details: richDetails, at: 1))
            _ = try await store.raise(raise(device: "a", severity: .critical, details: richDetails, at: 2))
            let acknowledged = try await store.raise(raise(device: "b", at: 3))
            _ = try await store.acknowledge(acknowledged.id, at: time(4))
            let cleared = try await store.raise(raise(device: "c", at: 5))
            _ = try await store.clear(cleared.id, at: time(6))
            let before = try await store.alarms(AlarmFilter())
            try await opened.close()
            let reopened = try await fixture.open()
            #expect(try await reopened.store.alarms(AlarmFilter()) == before)
            #expect(try await reopened.store.counts().filter { $0.value != 0 } == [.critical: 1, .major: 1])
            // The active key still counts on its alarm; a cleared key gets a fresh id, never a reused one.
            #expect(try await reopened.store.raise(raise(device: "a", at: 7)).id == kept.id)
            let fresh = try await reopened.store.raise(raise(device: "c", at: 8))
            #expect(!before.map(\.id).contains(fresh.id))
            #expect(fresh.id > before.map(\.id).max() ?? 0)
        }
    }
}
