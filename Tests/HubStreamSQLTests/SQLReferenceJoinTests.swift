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
        ("SELECT * FROM events e JOIN events f ON e.a = f.a", "a JOIN of two streams needs DATEDIFF(unit, e, f) BETWEEN low AND high in its ON condition"),
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

@Suite("stream SQL APPLY")
struct SQLApplyTests {
    @Test("CROSS APPLY GetArrayElements: one row per element; events without elements are dropped")
    func arrays() throws {
        let rows = try run(
            "SELECT e.deviceId, r.ArrayIndex AS i, r.ArrayValue AS v FROM events e CROSS APPLY GetArrayElements(e.readings) AS r WHERE r.ArrayValue > 1",
            tables: [:], [#"{"deviceId":"a","readings":[1,2,3]}"#, #"{"deviceId":"b","readings":[]}"#, #"{"deviceId":"c"}"#])
        #expect(rows == [#"deviceId="a" i=1 v=2"#, #"deviceId="a" i=2 v=3"#])
    }

    @Test("OUTER APPLY GetRecordProperties keeps events without properties, with NULLs")
    func properties() throws {
        let rows = try run(
            "SELECT e.deviceId, p.PropertyName AS name, p.PropertyValue AS value FROM events e OUTER APPLY GetRecordProperties(e.sensors) AS p",
            tables: [:], [#"{"deviceId":"a","sensors":{"t":21.5,"h":40}}"#, #"{"deviceId":"b"}"#])
        #expect(rows == [#"deviceId="a" name="t" value=21.5"#, #"deviceId="a" name="h" value=40"#, #"deviceId="b" name=null value=null"#])
    }

    @Test("APPLY with an aggregate: the average of every element in a window")
    func grouped() throws {
        let rows = try run(
            "SELECT e.deviceId, AVG(r.ArrayValue) AS a, COUNT(*) AS n FROM events e CROSS APPLY GetArrayElements(e.readings) AS r GROUP BY e.deviceId, TumblingWindow(second, 10)",
            tables: [:], [#"{"deviceId":"a","readings":[1,2,3]}"#, #"{"deviceId":"a","readings":[6]}"#])
        // The events arrive at 0 s and 1 s: windows (−10, 0] and (0, 10].
        #expect(rows == [#"deviceId="a" a=2.0 n=3"#, #"deviceId="a" a=6.0 n=1"#])
    }

    @Test("only GetArrayElements and GetRecordProperties can be applied")
    func errors() {
        #expect(throws: SQLError.self) { try SQLPlan("SELECT * FROM events e CROSS APPLY UPPER(e.x) AS u") }
    }
}
