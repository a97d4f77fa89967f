import HubCore
import HubStorage
import HubTestKit
import Testing

/// The `AlarmStore` contract on the in-memory reference backend, and the alarm values it stores.
@Suite("Alarm store, in-memory")
struct AlarmStoreTests {
    @Test("AlarmStore, in-memory", arguments: AlarmStoreConformance.Check.allCases)
    func inMemory(_ check: AlarmStoreConformance.Check) async throws {
        try await AlarmStoreConformance.run(check, on: InMemoryAlarmStoreFixture())
    }

    @Test("status wire names round trip, and nothing else parses")
    func statusWireNames() {
        let names = ["active-unacknowledged", "active-acknowledged", "cleared-unacknowledged", "cleared-acknowledged"]
        #expect(Set(names.compactMap(AlarmStatus.init(rawValue:))).count == 4)
        for name in names { #expect(AlarmStatus(rawValue: name)?.rawValue == name) }
        #expect(AlarmStatus(rawValue: "cleared-unacknowledged") == AlarmStatus(cleared: true, acknowledged: false))
        for bad in ["", "active", "cleared", "Active-Unacknowledged", "active-acknowledged ", "acknowledged-active"] {
            #expect(AlarmStatus(rawValue: bad) == nil, "\(bad)")
        }
    }

    @Test("severities rank critical highest")
    func severityRanks() {
        let ranked = AlarmSeverity.allCases.sorted { $0.rank > $1.rank }
        #expect(ranked == [.critical, .major, .minor, .warning, .info])
        #expect(Set(AlarmSeverity.allCases.map(\.rank)).count == AlarmSeverity.allCases.count)
        #expect(AlarmSeverity.allCases.map(\.rawValue) == ["critical", "major", "minor", "warning", "info"])
    }
}
