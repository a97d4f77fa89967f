import HubCore
import HubStorage
import HubTwins
import Testing

@Suite("Twin queries")
struct TwinQueryTests {
    @Test("SELECT * returns whole twins, filtered", arguments: [
        ("SELECT * FROM devices WHERE tags.fleet = 'north' AND properties.reported.battery < 0.2", "d1 d4"),
        ("SELECT * FROM devices", "d1 d2 d3 d4 d5 d6 d7 d8"),
        (#"select * from DEVICES where Tags.fleet = "north""#, "d1 d2 d4 d8"),
        ("SELECT * FROM devices WHERE NOT IS_DEFINED(tags.fleet)", "d5"),
        ("SELECT * FROM devices WHERE is_defined(properties.desired.fan)", "d7"),
        ("SELECT * FROM devices WHERE tags.fleet IN ['south', 'east']", "d3 d7"),
        ("SELECT * FROM devices WHERE tags.fleet NIN ['north', 'North']", "d3 d7"),
        ("SELECT * FROM devices WHERE deviceId IN []", ""),
        ("SELECT * FROM devices.modules", "d1/m1 d1/m2 d3/m1"),
        ("SELECT * FROM devices.modules WHERE deviceId IN ['d1'] AND tags.role = 'gateway'", "d1/m1"),
        ("SELECT * FROM devices.modules WHERE properties.reported.temp >= 20", "d3/m1"),
        ("SELECT TOP 3 * FROM devices", "d1 d2 d3"),
        ("SELECT top 0 * FROM devices", ""),
        ("SELECT * FROM devices WHERE capabilities.iotEdge = true", "d4"),
        ("SELECT * FROM devices WHERE Capabilities.IotEdge = false AND status = 'disabled'", "d3 d7"),
        ("SELECT * FROM devices WHERE connectionState = 'Connected'", "d1"),
        ("SELECT * FROM devices WHERE STARTS_WITH(tags.fleet, 'no')", "d1 d2 d4 d8"),
        ("SELECT * FROM devices WHERE ends_with(deviceId, '8') OR ENDS_WITH(tags.fleet, 'th') AND status = 'disabled'", "d3 d8"),
        ("SELECT * FROM devices WHERE properties.reported.battery > 'a'", "d8"),
        ("SELECT * FROM devices WHERE properties.reported.battery = 0.5", "d2"),
        ("SELECT * FROM devices WHERE properties.reported.battery = 5e-1", "d2"),
        ("SELECT * FROM devices WHERE properties.reported.battery * 100 % 25 = 0 AND properties.reported.battery + 1 <= 2", "d2"),
        ("SELECT * FROM devices WHERE -properties.reported.battery < -0.5", "d7"),
        ("SELECT * FROM devices WHERE tags.location.region = 'eu'", "d8"),
        ("SELECT * FROM devices WHERE tags.location['region'] = 'eu' AND tags.list[1] = 2", "d8"),
        ("SELECT * FROM devices WHERE status <> 'enabled'", "d3 d7"),
        ("SELECT * FROM devices WHERE status != 'enabled' AND statusReason = 'maintenance'", "d3"),
        ("SELECT * FROM devices WHERE tags.fleet = 'north' OR tags.fleet = 'south'", "d1 d2 d3 d4 d8"),
        ("SELECT * FROM devices WHERE NOT (tags.fleet = 'north')", "d3 d6 d7"),
        ("SELECT * FROM devices WHERE tags.note = 'it\\'s \"x\" 🚁'", "d7"),
        (#"SELECT * FROM devices WHERE tags.note = "it's \"x\" \ud83d\ude81""#, "d7"),
        ("SELECT * FROM devices WHERE deviceId = \"\\u0064\\u0031\"", "d1"),
        ("SELECT * FROM devices WHERE 0x10 = 16 AND deviceId = 'd1'", "d1"),
        ("SELECT * FROM devices WHERE tags = 'north' OR tags.location = tags.location", ""),
        ("SELECT * FROM devices WHERE tags.fleet", ""),
        ("SELECT * FROM devices WHERE IS_NULL(statusReason) AND IS_STRING(tags.fleet) AND tags.fleet > 'n'", "d1 d2 d4 d8"),
        ("SELECT * FROM devices WHERE version = 3 AND properties.desired.$version = 2", "d7"),
        ("SELECT *\nFROM devices\r\n\tWHERE tags.site = 'a'", "d1"),
    ])
    func selectStar(query: String, expected: String) async throws {
        let result = try await QueryFleet.run(query)
        #expect(result.type == .twin)
        #expect(result.items.map(QueryFleet.name).joined(separator: " ") == expected)
    }

    @Test("projections, aggregates and GROUP BY return raw rows", arguments: [
        (
            "SELECT deviceId, properties.reported.battery FROM devices WHERE tags.fleet = 'south'",
            #"[{"deviceId":"d3","battery":0.09375}]"#
        ),
        (
            "SELECT DeviceId, LastActivityTime FROM devices WHERE deviceId = 'd1'",
            #"[{"deviceId":"d1","lastActivityTime":"2024-01-01T00:00:02.000Z"}]"#
        ),
        ("SELECT deviceId, tags.site AS place FROM devices WHERE deviceId IN ['d1', 'd2']", #"[{"deviceId":"d1","place":"a"},{"deviceId":"d2"}]"#),
        ("SELECT TOP 2 deviceId FROM devices WHERE tags.fleet = 'north'", #"[{"deviceId":"d1"},{"deviceId":"d2"}]"#),
        ("SELECT deviceId, properties.reported.battery * 100 AS pct FROM devices WHERE deviceId = 'd2'", #"[{"deviceId":"d2","pct":50}]"#),
        ("SELECT deviceId, 1 + 1, 'x' FROM devices WHERE deviceId = 'd1'", #"[{"deviceId":"d1","$2":2,"$3":"x"}]"#),
        ("SELECT deviceId, moduleId FROM devices.modules WHERE deviceId IN ['d1']", #"[{"deviceId":"d1","moduleId":"m1"},{"deviceId":"d1","moduleId":"m2"}]"#),
        (
            "SELECT COUNT() AS numberOfDevices, status FROM devices GROUP BY status",
            #"[{"numberOfDevices":6,"status":"enabled"},{"numberOfDevices":2,"status":"disabled"}]"#
        ),
        ("SELECT COUNT() AS n FROM devices WHERE IS_DEFINED(tags.fleet)", #"[{"n":7}]"#),
        ("SELECT COUNT() AS n FROM devices WHERE deviceId = 'nobody'", #"[{"n":0}]"#),
        ("SELECT count() AS n FROM devices.modules", #"[{"n":3}]"#),
        (
            "SELECT tags.fleet, COUNT() AS n FROM devices GROUP BY tags.fleet",
            #"[{"fleet":"north","n":4},{"fleet":"south","n":1},{"n":1},{"fleet":"North","n":1},{"fleet":"east","n":1}]"#
        ),
        (
            "SELECT deviceId, COUNT() AS modules FROM devices.modules GROUP BY deviceId",
            #"[{"deviceId":"d1","modules":2},{"deviceId":"d3","modules":1}]"#
        ),
        (
            "SELECT status, connectionState, COUNT() AS n FROM devices WHERE tags.fleet = 'north' GROUP BY status, connectionState",
            #"[{"status":"enabled","connectionState":"Connected","n":1},{"status":"enabled","connectionState":"Disconnected","n":3}]"#
        ),
        (
            "SELECT AVG(properties.reported.battery) AS avg, SUM(properties.reported.battery) AS total FROM devices WHERE deviceId IN ['d1', 'd2']",
            #"[{"avg":0.3125,"total":0.625}]"#
        ),
        (
            "SELECT MIN(properties.reported.battery) AS low, MAX(properties.reported.battery) AS high FROM devices WHERE tags.fleet = 'north'",
            #"[{"low":0.0625,"high":"low"}]"#
        ),
        ("SELECT AVG(properties.reported.nothing) AS a, COUNT(properties.reported.battery) AS c FROM devices", #"[{"c":7}]"#),
        ("SELECT TOP 1 COUNT() AS n, status FROM devices GROUP BY status", #"[{"n":6,"status":"enabled"}]"#),
    ])
    func raw(query: String, expected: String) async throws {
        let result = try await QueryFleet.run(query)
        #expect(result.type == .raw)
        #expect(T.text(.array(result.items)) == expected)
    }

    @Test("paging returns every row exactly once, whatever the page size", arguments: [1, 2, 3, 5, 100])
    func paging(pageSize: Int) async throws {
        for query in [
            "SELECT * FROM devices", "SELECT deviceId FROM devices WHERE tags.fleet = 'north'", "SELECT TOP 5 * FROM devices",
            "SELECT * FROM devices.modules", "SELECT tags.fleet, COUNT() AS n FROM devices GROUP BY tags.fleet",
        ] {
            let whole = try await QueryFleet.run(query, pageSize: 1000)
            let paged = try await QueryFleet.run(query, pageSize: pageSize)
            #expect(paged.items == whole.items, "\(query)")
            #expect(paged.pages.dropLast().allSatisfy { $0 == pageSize }, "\(query): \(paged.pages)")
            #expect(paged.pages.last! > 0 || whole.items.isEmpty, "the last page is not an empty one: \(paged.pages)")
        }
    }

    /// 700 devices `n0000`…: more than two scan batches.
    static let manyDocuments: [QueryDocument] = (0..<700).map { n in
        let identity = IdentityID(device: DeviceID(rawValue: "n" + String(String(n + 10000).dropFirst()))!)
        let twin = QueryFleet.twin(identity, tags: #"{"n":\#(n),"even":\#(n % 2 == 0)}"#, desired: "{}", reported: "{}")
        return QueryDocument(identity: identity, json: TwinJSON.serviceTwin(twin, device: T.device(identity.device.rawValue)))
    }

    @Test("paging across scan batches: every match once, in order, no continuation after the last", arguments: [7, 50, 1000])
    func pagingManyDocuments(pageSize: Int) async throws {
        let result = try await QueryFleet.run("SELECT tags.n FROM devices WHERE tags.n % 7 = 0", documents: Self.manyDocuments, pageSize: pageSize)
        let numbers = result.items.map { item -> Int in
            guard case .object(let o) = item, case .number(let n) = o["n"] else { return -1 }
            return Int(n)!
        }
        #expect(numbers == Array(stride(from: 0, to: 700, by: 7)))
        let grouped = try await QueryFleet.run(
            "SELECT tags.even, COUNT() AS c FROM devices GROUP BY tags.even", documents: Self.manyDocuments, pageSize: 1)
        #expect(T.text(.array(grouped.items)) == #"[{"even":true,"c":350},{"even":false,"c":350}]"#)
        #expect(grouped.pages == [1, 1])
        let top = try await QueryFleet.run("SELECT TOP 260 * FROM devices", documents: Self.manyDocuments, pageSize: pageSize)
        #expect(top.items.count == 260)
    }

    @Test("page sizes and continuation tokens are checked")
    func pagingInputs() async throws {
        let query = try TwinQuery(parsing: "SELECT * FROM devices")
        let docs = QueryFleet.documents
        await #expect(throws: TwinError.self) { try await TwinQueryExecutor.execute(query, documents: docs, pageSize: 0) }
        let big = try await TwinQueryExecutor.execute(query, documents: Self.manyDocuments, pageSize: 5000)
        #expect(big.items.count == 700 && big.continuation == nil)
        let first = try await TwinQueryExecutor.execute(query, documents: docs, pageSize: 2)
        let token = try #require(first.continuation)
        let other = try TwinQuery(parsing: "SELECT deviceId FROM devices")
        for bad in ["garbage", "", Base64.encode(Array("{}".utf8)), Base64.encode(Array(#"{"q":"0","n":1}"#.utf8))] {
            let error = await #expect(throws: TwinError.self) { try await TwinQueryExecutor.execute(query, documents: docs, continuation: bad) }
            #expect(error?.code == .invalid)
        }
        let error = await #expect(throws: TwinError.self) { try await TwinQueryExecutor.execute(other, documents: docs, continuation: token) }
        #expect(error?.code == .invalid)
        let second = try await TwinQueryExecutor.execute(query, documents: docs, pageSize: 2, continuation: token)
        #expect(second.items.map(QueryFleet.name) == ["d3", "d4"])
    }

    @Test("a scan over the twin service and a store: every identity shows, never-written twins included")
    func scanOverService() async throws {
        let store = InMemoryTwinStore()
        let service = TwinService(store: store, clock: { T.t1 })
        let devices = (1...5).map { T.device("dev\($0)") }
        _ = try await service.updateTwin(of: IdentityID(device: devices[2].id), patch: T.json(#"{"tags":{"x":1}}"#), ifMatch: nil)
        let query = try TwinQuery(parsing: "SELECT deviceId, version FROM devices WHERE version >= 1")
        let page = try await TwinQueryExecutor.execute(query, pageSize: 10) { (scope, after, limit) async throws(TwinError) in
            precondition(scope == .devices)
            let slice = devices.filter { after == nil || $0.id > after!.device }.prefix(limit)
            return try await service.queryDocuments(devices: Array(slice))
        }
        #expect(
            T.text(.array(page.items))
                == #"[{"deviceId":"dev1","version":1},{"deviceId":"dev2","version":1},{"deviceId":"dev3","version":2},"#
                + #"{"deviceId":"dev4","version":1},{"deviceId":"dev5","version":1}]"#)
        #expect(try await store.twins(after: nil, limit: 10, scope: .all).count == 5, "reading created the missing twins")
    }

    @Test("malformed queries say where, briefly", arguments: [
        ("SELEC * FROM devices", 1, 1),
        ("SELECT * FORM devices", 1, 10),
        ("SELECT * FROM devices WHERE", 1, 28),
        ("SELECT * FROM devices WHERE tags.x = 'abc", 1, 38),
        ("SELECT *\nFROM devices\nWHERE tags.x = = 1", 3, 16),
        ("SELECT *\r\nFROM devices\r\n  WHERE )", 3, 9),
        ("SELECT * FROM devices WHERE tags.x # 1", 1, 36),
        ("SELECT * FROM devices WHERE tags.x ! 1", 1, 36),
        ("SELECT * FROM devices.jobs", 1, 23),
        ("SELECT * FROM devices.other", 1, 23),
        ("SELECT * FROM things", 1, 15),
        ("SELECT * FROM devices WHERE FOO(tags.x)", 1, 29),
        ("SELECT * FROM devices WHERE IS_DEFINED(a, b)", 1, 29),
        ("SELECT * FROM devices WHERE COUNT() > 1", 1, 29),
        ("SELECT deviceId, COUNT() AS n FROM devices", 1, 8),
        ("SELECT deviceId, COUNT() AS n FROM devices GROUP BY status", 1, 8),
        ("SELECT COUNT() + 1 AS n FROM devices", 1, 8),
        ("SELECT * FROM devices GROUP BY status", 1, 8),
        ("SELECT status FROM devices GROUP BY 1", 1, 37),
        ("SELECT TOP x * FROM devices", 1, 12),
        ("SELECT * FROM devices WHERE tags.x = 'a\\qb'", 1, 40),
        ("SELECT * FROM devices WHERE tags.x = '\\u12'", 1, 39),
        ("SELECT * FROM devices WHERE x IN 1", 1, 34),
        ("SELECT * FROM devices WHERE x IN [1, 2", 1, 39),
        ("SELECT * FROM devices extra", 1, 23),
        ("SELECT a, b AS a FROM devices", 1, 11),
        ("SELECT * FROM devices WHERE tags.x = 12abc", 1, 38),
        ("SELECT * FROM devices WHERE tags.x = 0xZZ", 1, 38),
        ("SELECT * FROM devices WHERE tags.x = 'é' AND @", 1, 46),
        ("SELECT * FROM devices WHERE tags. = 1", 1, 35),
        ("SELECT * FROM devices WHERE tags[x] = 1", 1, 34),
        ("SELECT * FROM devices WHERE (tags.x = 1", 1, 40),
        ("SELECT * FROM devices WHERE SELECT = 1", 1, 29),
        ("", 1, 1),
    ])
    func malformed(query: String, line: Int, column: Int) {
        let error = T.expectError(.invalidQuery) { try TwinQuery(parsing: query) }
        #expect(error?.line == line && error?.column == column, "\(error.map { "\($0)" } ?? "no error")")
    }

    @Test("errors quote at most a few characters of the query")
    func briefErrors() {
        let secret = "SUPERSECRETVALUE_0123456789"
        for query in [
            "SELECT * FROM devices WHERE tags.x = 1 \(secret)", "SELECT * FROM devices \(secret) = 1",
            "SELECT * FROM devices WHERE \(secret)(1)", "SELECT * FROM devices WHERE tags.x = 1\(secret)",
        ] {
            let error = T.expectError(.invalidQuery) { try TwinQuery(parsing: query) }
            #expect(error.map { !$0.message.contains(secret) && $0.message.count < 80 } == true, "\(error.map(\.message) ?? "")")
        }
        let long = "SELECT * FROM devices WHERE tags.x = '" + String(repeating: "a", count: 8200) + "'"
        let error = T.expectError(.invalidQuery) { try TwinQuery(parsing: long) }
        #expect(error?.line == 1 && error?.column == 1)
        let limit = "SELECT * FROM devices WHERE tags.x = '" + String(repeating: "a", count: 8192 - 39) + "'"
        #expect(limit.utf16.count == 8192)
        #expect((try? TwinQuery(parsing: limit)) != nil)
    }

    @Test("item types: twin for SELECT *, raw otherwise")
    func itemTypes() throws {
        #expect(try TwinQuery(parsing: "SELECT * FROM devices").itemType == .twin)
        #expect(try TwinQuery(parsing: "SELECT TOP 1 * FROM devices.modules").itemType == .twin)
        #expect(try TwinQuery(parsing: "SELECT deviceId FROM devices").itemType == .raw)
        #expect(try TwinQuery(parsing: "SELECT COUNT() AS n FROM devices").itemType == .raw)
        #expect(try TwinQuery(parsing: "SELECT * FROM devices.modules").scope == .modules)
    }
}
