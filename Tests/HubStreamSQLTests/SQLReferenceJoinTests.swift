import HubCore
import HubStreamSQL
import Synchronization
import Testing

private func record(_ json: String) throws -> SQLValue { SQLValue(json: try JSONParser.parse(Array(json.utf8))) }

/// A reference table the test can change while the job runs, as the live twins change.
private final class LiveTable: Sendable {
    let table = Mutex(SQLReferenceTable(rows: []))
    func set(_ rows: [SQLValue], version: UInt64) { table.withLock { $0 = SQLReferenceTable(rows: rows, version: version) } }
}

private func run(_ query: String, tables: [String: SQLReferenceTable], _ events: [String]) throws -> [String] {
    var configuration = SQLJob.Configuration()
    configuration.reference = { tables[$0] }
    var job = SQLJob(plan: try SQLPlan(query, references: Set(tables.keys)), configuration: configuration)
    var rows: [SQLOutputRow] = []
    for (i, event) in events.enumerated() { rows += job.process(SQLEvent(record: try record(event), enqueuedTime: Int64(i) * 1000)) }
    rows += job.flush()
    #expect(job.counters.errors == 0, "\(String(describing: job.lastError))")
    return rows.map { row in row.record.members.map { "\($0.name)=\(JSONWriter.string($0.value.json))" }.joined(separator: " ") }
}

@Suite("stream SQL reference joins")
struct SQLReferenceJoinTests {
    static let twins = SQLReferenceTable(rows: [
        #"{"deviceId":"d1","tags":{"fleet":"north"},"properties":{"reported":{"mode":"delivering"}}}"#,
        #"{"deviceId":"d2","tags":{"fleet":"south"},"properties":{"reported":{"mode":"charging"}}}"#,
        #"{"deviceId":"d3","tags":{"fleet":"south"},"properties":{"reported":{"mode":"delivering"}}}"#,
    ].map { try! record($0) })

    @Test("the drone scenario's query 6: low battery only for drones whose twin says they are delivering")
    func twinJoin() throws {
        let rows = try run(DroneQueries.all[5].text, tables: ["twins": Self.twins], [
            #"{"deviceId":"d1","sensorType":"drone-state-sensor;v1","occurrenceUtcTime":"2026-01-01T00:00:01Z","batteryLevel":"0.15"}"#,
            #"{"deviceId":"d2","sensorType":"drone-state-sensor;v1","occurrenceUtcTime":"2026-01-01T00:00:02Z","batteryLevel":"0.10"}"#,
            #"{"deviceId":"d3","sensorType":"drone-state-sensor;v1","occurrenceUtcTime":"2026-01-01T00:00:03Z","batteryLevel":"0.50"}"#,
            #"{"deviceId":"d9","sensorType":"drone-state-sensor;v1","occurrenceUtcTime":"2026-01-01T00:00:04Z","batteryLevel":"0.05"}"#,
        ])
        #expect(rows == [#"deviceId="d1" level=0.15 fleet="north""#])
    }

    @Test("LEFT OUTER JOIN keeps events without a match, with NULLs; SELECT alias.* copies one input")
    func leftOuter() throws {
        let rows = try run(
            "SELECT e.deviceId, t.tags.fleet AS fleet FROM events e LEFT OUTER JOIN twins t ON e.deviceId = t.deviceId",
            tables: ["twins": Self.twins], [#"{"deviceId":"d2"}"#, #"{"deviceId":"d9"}"#])
        #expect(rows == [#"deviceId="d2" fleet="south""#, #"deviceId="d9" fleet=null"#])
        let star = try run("SELECT t.* FROM events e JOIN twins t ON e.deviceId = t.deviceId", tables: ["twins": Self.twins], [#"{"deviceId":"d3"}"#])
        #expect(star.count == 1 && star[0].hasPrefix(#"deviceId="d3" tags="#))
    }

    @Test("the drone scenario's query 4: no-fly zones as polygons in reference data")
    func geofence() throws {
        let zones = SQLReferenceTable(rows: [
            try record(#"{"zoneId":"airport","polygon":{"type":"Polygon","coordinates":[[[-122.20,47.47],[-122.18,47.47],[-122.18,47.48],[-122.20,47.48],[-122.20,47.47]]]}}"#),
            try record(#"{"zoneId":"stadium","polygon":{"type":"Polygon","coordinates":[[[-122.40,47.59],[-122.39,47.59],[-122.39,47.60],[-122.40,47.60],[-122.40,47.59]]]}}"#),
        ])
        let rows = try run(DroneQueries.all[3].text, tables: ["noflyzones": zones], [
            #"{"deviceId":"d1","sensorType":"drone-event-sensor;v1","occurrenceUtcTime":"2026-01-01T00:00:01Z","position":"47.476|-122.19|120"}"#,
            #"{"deviceId":"d2","sensorType":"drone-event-sensor;v1","occurrenceUtcTime":"2026-01-01T00:00:02Z","position":"47.50|-122.30|120"}"#,
            #"{"deviceId":"d3","sensorType":"drone-event-sensor;v1","occurrenceUtcTime":"2026-01-01T00:00:03Z","position":"47.595|-122.395|90"}"#,
        ])
        #expect(rows == [
            #"deviceId="d1" zoneId="airport" occurrenceUtcTime="2026-01-01T00:00:01Z""#,
            #"deviceId="d3" zoneId="stadium" occurrenceUtcTime="2026-01-01T00:00:03Z""#,
        ])
    }

    @Test("a table that changes (the live twins) is seen by the next event; its index is rebuilt")
    func liveTable() throws {
        let live = LiveTable()
        live.set([try record(#"{"deviceId":"d1","tags":{"fleet":"north"}}"#)], version: 1)
        var configuration = SQLJob.Configuration()
        configuration.reference = { name in name == "twins" ? live.table.withLock { $0 } : nil }
        var job = SQLJob(plan: try SQLPlan("SELECT t.tags.fleet AS fleet FROM events e JOIN twins t ON e.deviceId = t.deviceId", references: ["twins"]), configuration: configuration)
        func fleet(_ device: String) throws -> [String] {
            job.process(SQLEvent(record: try record(#"{"deviceId":"\#(device)"}"#), enqueuedTime: 0)).map { JSONWriter.string($0.record["fleet"]!.json) }
        }
        #expect(try fleet("d1") == [#""north""#])
        live.set([try record(#"{"deviceId":"d1","tags":{"fleet":"east"}}"#), try record(#"{"deviceId":"d2","tags":{"fleet":"west"}}"#)], version: 2)
        #expect(try fleet("d1") == [#""east""#])
        #expect(try fleet("d2") == [#""west""#])
    }

    @Test("reference files: JSON arrays, JSON lines and CSV")
    func files() throws {
        #expect(try SQLReferenceTable.json(#"[{"a":1},{"a":2}]"#).rows.count == 2)
        #expect(try SQLReferenceTable.json("{\"a\":1}\n\n{\"a\":2}\n").rows.count == 2)
        #expect(throws: SQLError.self) { try SQLReferenceTable.json("[1, 2]") }
        let csv = try SQLReferenceTable.csv("zoneId,name,note\r\nz1,\"Airport, north\",\"said \"\"no\"\"\"\nz2,Stadium,\"two\nlines\"\n")
        #expect(csv.rows == [
            .record(SQLRecord([("zoneId", .string("z1")), ("name", .string("Airport, north")), ("note", .string(#"said "no""#))])),
            .record(SQLRecord([("zoneId", .string("z2")), ("name", .string("Stadium")), ("note", .string("two\nlines"))])),
        ])
        #expect(throws: SQLError.self) { try SQLReferenceTable.csv("a,b\n1\n") }
        #expect(throws: SQLError.self) { try SQLReferenceTable.csv("a\n\"open\n") }
    }

    @Test("join errors at plan time", arguments: [
        ("SELECT * FROM events e JOIN zones z ON e.a = z.a", "unknown reference input zones (reference inputs: twins)"),
        ("SELECT * FROM events e JOIN events f ON e.a = f.a", "JOIN of two streams is not supported by this version of the runtime yet"),
        ("SELECT * FROM events e JOIN twins e ON e.a = e.b", "the alias e is used twice"),
    ])
    func planErrors(_ text: String, _ message: String) {
        #expect {
            try SQLPlan(text, references: ["twins"])
        } throws: { error in
            (error as? SQLError)?.message == message
        }
    }
}
