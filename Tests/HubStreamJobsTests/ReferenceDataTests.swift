import Foundation
import HubCore
import HubEventLog
import HubStreamSQL
import HubTestKit
import Testing

@testable import HubStreamJobs

@Suite("Stream jobs: static reference data (the no-fly zones)")
struct ReferenceDataTests {
    /// One square zone around (47.60…47.61, -122.34…-122.33), GeoJSON coordinates [lon, lat].
    static let zones = """
        [{"zoneId": "nfz-1", "polygon": {"type": "Polygon", "coordinates": [[[-122.34, 47.60], [-122.33, 47.60], [-122.33, 47.61], [-122.34, 47.61], [-122.34, 47.60]]]}}]
        """

    static func flight(_ device: String, second: Int, lat: Double, lon: Double) -> String {
        let time = "11/24/2026 10:00:\(second < 10 ? "0" : "")\(second) +00:00"
        return #"{"occurrenceUtcTime":"\#(time)","deviceId":"\#(device)","sensorType":"drone-event-sensor;v1","position":"\#(lat)|\#(lon)|120.00"}"#
    }

    static func definition(referenceData: [String: [CodableJSON]]?) -> StreamJobDefinition {
        var definition = StreamJobDefinition(name: "nofly", query: """
            SELECT f.deviceId, z.zoneId, f.occurrenceUtcTime
            INTO alarms
            FROM events f TIMESTAMP BY occurrenceUtcTime
            JOIN noFlyZones z
              ON ST_WITHIN(CreatePoint(CAST(GetArrayElement(SPLIT(f.position, '|'), 0) AS float),
                                       CAST(GetArrayElement(SPLIT(f.position, '|'), 1) AS float)), z.polygon) = 1
            WHERE f.sensorType = 'drone-event-sensor;v1'
            """, outputs: ["alarms": JobOutput(type: .alarm, severity: .critical, alarmType: "noFlyZone")])
        definition.referenceData = referenceData
        return definition
    }

    @Test("a job JOINs its reference table: a drone inside the zone raises an alarm, one outside does not")
    func joins() async throws {
        let fixture = try EventLogFixture()
        defer { fixture.close() }
        let captured = Captured()
        let jobs = try StreamJobs(log: fixture.log, directory: fixture.dir.appending("jobs"), actions: captured.actions)
        let running = Task { await jobs.run() }
        let rows = try JSONDecoder().decode([CodableJSON].self, from: Data(Self.zones.utf8))
        try await jobs.put(Self.definition(referenceData: ["noFlyZones": rows]))
        #expect(await eventually(30) { await jobs.status("nofly")?.state == .running })
        try await append(fixture.log, device: "inside", json: Self.flight("inside", second: 1, lat: 47.605, lon: -122.335))
        try await append(fixture.log, device: "outside", json: Self.flight("outside", second: 2, lat: 47.62, lon: -122.335))
        #expect(await eventually(30) { await jobs.status("nofly")?.eventsIn == 2 })
        #expect(await eventually(30) { captured.alarms.withLock { $0.count } == 1 })
        let alarm = try #require(captured.alarms.withLock { $0.first })
        #expect(alarm.deviceID == "inside" && alarm.type == "noFlyZone" && alarm.severity == .critical)
        // The definition keeps its reference data through JSON (as the API and the job store write it).
        let stored = try #require(await jobs.definition("nofly"))
        let again = try JSONDecoder().decode(StreamJobDefinition.self, from: JSONEncoder().encode(stored))
        #expect(again.referenceData == stored.referenceData && stored.referenceData?["noFlyZones"]?.count == 1)
        running.cancel()
        await running.value
    }

    @Test("without the table the query does not plan; bad tables are refused with a reason")
    func refused() throws {
        #expect(throws: StreamJobError.self) { try Self.definition(referenceData: nil).validated() }
        let row = CodableJSON(.object(JSONObject(["zoneId": .string("z")])))
        for (data, words) in [
            (["twins": [row]], "not twins"), (["bad name": [row]], "1-64"), (["noFlyZones": [CodableJSON(.number("1"))]], "JSON object"),
            (Dictionary(uniqueKeysWithValues: (0...StreamJobDefinition.maximumReferenceTables).map { ("t\($0)", [row]) }), "at most"),
        ] {
            do {
                _ = try Self.definition(referenceData: data).validated()
                Issue.record("accepted \(data.keys.sorted())")
            } catch {
                #expect(error.message.contains(words), "\(error.message)")
            }
        }
        #expect(throws: Never.self) { try Self.definition(referenceData: ["noFlyZones": [row]]).validated() }
    }
}
