import HubCore
import HubStreamSQL
import Testing

/// Evaluates `text` against one drone flight-data event (fields as the scenario sends them: numbers as strings).
private func eval(_ text: String, event: String = droneEvent) throws -> SQLValue {
    let json = try JSONParser.parse(Array(event.utf8))
    return try SQLEvaluator.evaluate(try SQLParser.parseExpression(text), in: SQLRow("events", SQLValue(json: json)))
}

private let droneEvent = #"""
{"occurrenceUtcTime": "04/17/2018 20:25:09 +00:00", "deviceId": "Simulated.drone-01.35", "velocity": "58.08",
 "acceleration": "2.52", "position": "47.476075|-122.192026|124.38", "flightStatus": "1", "n": 7, "x": 2.5,
 "nested": {"a": {"b": "deep"}}, "list": [10, 20, 30], "nothing": null}
"""#

@Suite("stream SQL expressions")
struct SQLEvaluatorTests {
    @Test("arithmetic, precedence and types", arguments: [
        ("1 + 2 * 3", SQLValue.int(7)), ("(1 + 2) * 3", .int(9)), ("7 / 2", .float(3.5)), ("8 / 2", .int(4)), ("7 % 3", .int(1)),
        ("n * x", .float(17.5)), ("-n", .int(-7)), ("'a' + 'b'", .string("ab")), ("'a' || 1", .string("a1")),
        ("9223372036854775807 + 1", .float(9.223372036854775808e18)), ("-9223372036854775808 / -1", .float(9.223372036854775808e18)),
    ])
    func arithmetic(_ text: String, _ expected: SQLValue) throws {
        #expect(try eval(text) == expected)
    }

    @Test("NULL is unknown: arithmetic and comparisons give NULL, AND/OR are three-valued", arguments: [
        ("nothing + 1", SQLValue.null), ("missing = 1", .null), ("missing IS NULL", .bool(true)), ("n IS NOT NULL", .bool(true)),
        ("missing = 1 AND 1 = 0", .bool(false)), ("missing = 1 OR 1 = 1", .bool(true)), ("missing = 1 OR 1 = 0", .null),
        ("NOT (missing = 1)", .null), ("n IN (1, missing)", .null), ("n IN (7, missing)", .bool(true)), ("n NOT IN (1, 2)", .bool(true)),
        ("n BETWEEN 1 AND 10", .bool(true)), ("n NOT BETWEEN 1 AND 10", .bool(false)), ("COALESCE(missing, nothing, n)", .int(7)),
    ])
    func nulls(_ text: String, _ expected: SQLValue) throws {
        #expect(try eval(text) == expected)
    }

    @Test("the scenario's string fields: casts, SPLIT and GetArrayElement, the event time")
    func scenario() throws {
        #expect(try eval("CAST(velocity AS float)") == .float(58.08))
        #expect(try eval("CAST(flightStatus AS bigint) = 1") == .bool(true))
        #expect(try eval("CAST(GetArrayElement(SPLIT(position, '|'), 1) AS float)") == .float(-122.192026))
        #expect(try eval("GetArrayElement(SPLIT(position, '|'), 9)") == .null)
        // 2018-04-17T20:25:09Z = 1523996709 s.
        #expect(try eval("CAST(occurrenceUtcTime AS datetime)") == .datetime(1_523_996_709_000))
        #expect(try eval("DATEPART(hour, occurrenceUtcTime)") == .int(20))
        #expect(try eval("DATEDIFF(second, '2018-04-17T20:25:00Z', occurrenceUtcTime)") == .int(9))
        #expect(try eval("DATEADD(month, 1, '2018-01-31T00:00:00Z') = CAST('2018-02-28T00:00:00Z' AS datetime)") == .bool(true))
        #expect(try eval("DATEDIFF(minute, '2018-04-17T20:25:59Z', '2018-04-17T20:26:00Z')") == .int(1))
    }

    @Test("casts that fail are errors; TRY_CAST gives NULL")
    func casts() throws {
        #expect(throws: SQLError.self) { try eval("CAST(deviceId AS float)") }
        #expect(try eval("TRY_CAST(deviceId AS float)") == .null)
        #expect(try eval("CAST('true' AS bit)") == .bool(true))
        #expect(try eval("CAST(x AS bigint)") == .int(2))
        #expect(try eval("CAST(n AS nvarchar(max))") == .string("7"))
        #expect(try eval("CAST(nested AS record) IS NOT NULL") == .bool(true))
        #expect(throws: SQLError.self) { try eval("CAST(n AS money)") }
        #expect(throws: SQLError.self) { try eval("CAST('1e400' AS float)") }
    }

    @Test("strings, LIKE, CASE")
    func strings() throws {
        #expect(try eval("UPPER(SUBSTRING(deviceId, 11, 5))") == .string("DRONE"))
        #expect(try eval("SUBSTRING('abc', -5, 7)") == .string("a"))
        #expect(try eval("SUBSTRING('abc', 9223372036854775807, 9223372036854775807)") == .string(""))
        #expect(try eval("LEN(deviceId)") == .int(21))
        #expect(try eval("CHARINDEX('drone', deviceId)") == .int(11))
        #expect(try eval("REPLACE(deviceId, 'Simulated.', '')") == .string("drone-01.35"))
        #expect(try eval("deviceId LIKE 'Simulated.drone-%'") == .bool(true))
        #expect(try eval("deviceId LIKE '%.3_'") == .bool(true))
        #expect(try eval("deviceId LIKE 'simulated.drone-0[12]%'") == .bool(true))
        #expect(try eval("deviceId NOT LIKE '%truck%'") == .bool(true))
        #expect(try eval("CASE WHEN n > 10 THEN 'big' WHEN n > 5 THEN 'mid' ELSE 'small' END") == .string("mid"))
        #expect(try eval("CASE n WHEN 1 THEN 'one' WHEN 7 THEN 'seven' END") == .string("seven"))
        #expect(try eval("CASE n WHEN 1 THEN 'one' END") == .null)
    }

    @Test("records and arrays")
    func records() throws {
        #expect(try eval("GetRecordPropertyValue(nested, 'a.b')") == .string("deep"))
        #expect(try eval("nested.a.b") == .string("deep"))
        #expect(try eval("events.nested.a.b") == .string("deep"))
        #expect(try eval("NESTED.A.B") == .string("deep"), "field names match without case when there is no exact match")
        #expect(try eval("GetArrayLength(list)") == .int(3))
        #expect(try eval("GetArrayElement(list, 2)") == .int(30))
    }

    @Test("geospatial: points, polygons (geofences), distances")
    func geospatial() throws {
        // A square no-fly zone around the event's position (lat 47.476075, lon -122.192026).
        let zone = "CreatePolygon(CreatePoint(47.47, -122.20), CreatePoint(47.47, -122.18), CreatePoint(47.48, -122.18), CreatePoint(47.48, -122.20))"
        let here = "CreatePoint(CAST(GetArrayElement(SPLIT(position, '|'), 0) AS float), CAST(GetArrayElement(SPLIT(position, '|'), 1) AS float))"
        #expect(try eval("ST_WITHIN(\(here), \(zone))") == .int(1))
        #expect(try eval("ST_WITHIN(CreatePoint(47.49, -122.19), \(zone))") == .int(0))
        // Paris (48.8566, 2.3522) to London (51.5074, -0.1278): about 343.5 km.
        guard case .float(let d) = try eval("ST_DISTANCE(CreatePoint(48.8566, 2.3522), CreatePoint(51.5074, -0.1278))") else {
            Issue.record("no distance")
            return
        }
        #expect(abs(d - 343_500) < 1_000)
        let crossing = "CreateLineString(CreatePoint(47.46, -122.19), CreatePoint(47.49, -122.19))"
        let away = "CreateLineString(CreatePoint(47.40, -122.10), CreatePoint(47.41, -122.10))"
        #expect(try eval("ST_INTERSECTS(\(crossing), \(zone))") == .int(1))
        #expect(try eval("ST_INTERSECTS(\(away), \(zone))") == .int(0))
        #expect(throws: SQLError.self) { try eval("CreatePoint(91, 0)") }
    }

    @Test("errors name the problem and where it is")
    func errors() throws {
        #expect(throws: SQLError("unknown function NoSuchThing", at: SQLLocation(line: 1, column: 1))) { try eval("NoSuchThing(1)") }
        #expect(throws: SQLError("AVG is an aggregate or analytic function and cannot be used here", at: SQLLocation(line: 1, column: 5))) {
            try eval("1 + AVG(n)")
        }
        #expect(throws: SQLError("division by zero", at: SQLLocation(line: 1, column: 3))) { try eval("n / 0") }
        #expect(throws: SQLError("LEN takes 1 arguments, got 2", at: SQLLocation(line: 1, column: 1))) { try eval("LEN('a', 'b')") }
        #expect(throws: SQLError.self) { try eval("deviceId > 3") }
    }

    @Test("date text: ISO 8601 and the scenario's MM/dd/yyyy format", arguments: [
        ("2018-04-17T20:25:09Z", Int64(1_523_996_709_000)), ("2018-04-17T20:25:09.250Z", 1_523_996_709_250),
        ("2018-04-17 20:25:09", 1_523_996_709_000), ("04/17/2018 20:25:09 +00:00", 1_523_996_709_000),
        ("04/17/2018 22:25:09 +02:00", 1_523_996_709_000), ("04/17/2018 20:25:09", 1_523_996_709_000),
    ])
    func dates(_ text: String, _ expected: Int64) {
        #expect(SQLDateTime.parse(text) == expected)
    }

    @Test("bad date text is not a date", arguments: ["", "yesterday", "13/01/2018 00:00:00 +00:00", "04/17/2018 20:25:09 +0", "2018-02-30T00:00:00Z"])
    func badDates(_ text: String) {
        #expect(SQLDateTime.parse(text) == nil)
    }
}
