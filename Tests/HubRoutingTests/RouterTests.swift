import Foundation
import HubCore
import HubEventLog
import HubMessaging
import HubTestKit
import Logging
import Testing

@testable import HubRouting

func append(_ log: EventLog, device: String, body: String, properties: [(String, String)] = []) async throws {
    try await log.appendTelemetry(device: device, json: body, properties: properties)
}

/// JSON-lines records under a file storage endpoint's root.
func storedRecords(_ root: String) throws -> [JSONObject] {
    guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
    var result: [JSONObject] = []
    for case let relative as String in enumerator where relative.hasSuffix(".jsonl") {
        let text = try String(contentsOfFile: "\(root)/\(relative)", encoding: .utf8)
        for line in text.split(separator: "\n") {
            if case .object(let object) = try JSONParser.parse(Array(line.utf8)) { result.append(object) }
        }
    }
    return result
}

@Suite("MessageRouter over a real event log")
struct RouterTests {
    struct Hub {
        let fixture: EventLogFixture
        var log: EventLog { fixture.log }
        var dir: TemporaryDirectory { fixture.dir }
        let store: FileRoutingStore
        var locations: MessageRouter.Locations { .init(routingDirectory: dir.appending("routing")) }

        init() throws {
            fixture = try EventLogFixture()
            try FileManager.default.createDirectory(atPath: fixture.dir.appending("routing"), withIntermediateDirectories: true)
            store = FileRoutingStore(path: fixture.dir.appending("routing/routing.json"))
        }

        func router(twins: [String: JSONValue] = [:], settings: MessageRouter.Settings = fastRetries) throws -> MessageRouter {
            try MessageRouter(
                log: log, store: store, locations: locations, hubName: "meridian-test", settings: settings,
                twinLookup: { device, _ in twins[device.rawValue] })
        }

        static var fastRetries: MessageRouter.Settings {
            var settings = MessageRouter.Settings()
            settings.retryBase = .milliseconds(50)
            settings.retryCap = .milliseconds(200)
            return settings
        }

        func close() { fixture.close() }
    }

    @Test("routes send matching messages to file storage as JSON lines per partition and minute, enriched; others fall back")
    func fileStorage() async throws {
        let hub = try Hub()
        defer { hub.close() }
        let twins: [String: JSONValue] = ["drone-1": .object(JSONObject(["tags": .object(JSONObject(["zone": .string("north")]))]))]
        let router = try hub.router(twins: twins)
        try await router.update { table in
            table.endpoints = [.init(name: "hot", kind: .fileStorage(directory: nil)), .init(name: "rest", kind: .fileStorage(directory: "everything-else"))]
            table.routes = [Route(name: "alerts", condition: "$body.temperature > 80 OR level = 'critical'", endpointNames: ["hot"])]
            table.enrichments = [
                Enrichment(key: "zone", value: "$twin.tags.zone", endpointNames: ["hot"]),
                Enrichment(key: "hub", value: "$iothubname", endpointNames: ["hot"]),
                Enrichment(key: "pipeline", value: "v2", endpointNames: ["hot", "rest"]),
            ]
            table.fallbackRoute = FallbackRoute(endpointNames: ["rest"])
        }
        let running = Task { await router.run() }
        defer { running.cancel() }
        // Endpoints start at the end of the log: wait until both are running before appending.
        #expect(await eventually { await router.status().count == 2 })
        for i in 0..<20 {
            try await append(hub.log, device: "drone-\(i % 3)", body: #"{"temperature":\#(70 + i),"i":\#(i)}"#, properties: i == 3 ? [("level", "critical")] : [])
        }
        let hot = router.fileStorageRoot("hot", nil)
        let rest = router.fileStorageRoot("rest", "everything-else")
        #expect(rest == hub.dir.appending("routing/storage/everything-else"))
        #expect(await eventually { ((try? storedRecords(hot).count) ?? 0) + ((try? storedRecords(rest).count) ?? 0) == 20 })
        let hotRecords = try storedRecords(hot)
        let hotIndexes = Set(hotRecords.compactMap { record -> Int? in
            guard case .object(let body)? = record["body"], case .number(let i)? = body["i"] else { return nil }
            return Int(i)
        })
        #expect(hotIndexes == Set([3] + Array(11..<20)))
        for record in hotRecords {
            guard case .object(let properties)? = record["properties"] else { Issue.record("no properties"); continue }
            #expect(properties["pipeline"] == .string("v2"))
            #expect(properties["hub"] == .string("meridian-test"))
            let zone: JSONValue? = record["deviceId"] == .string("drone-1") ? .string("north") : nil
            #expect(properties["zone"] == zone)
        }
        #expect(try storedRecords(rest).allSatisfy { record in
            guard case .object(let properties)? = record["properties"] else { return false }
            return properties["pipeline"] == .string("v2") && properties["zone"] == nil
        })
        // The layout: <root>/<partition>/YYYY/MM/DD/HH/mm.jsonl.
        let files = (FileManager.default.enumerator(atPath: hot)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".jsonl") }
        #expect(!files.isEmpty)
        for file in files {
            #expect(file.wholeMatch(of: /[01]\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{2}\.jsonl/) != nil, "\(file)")
        }
        #expect(await eventually { await router.status().allSatisfy { $0.lag == 0 && $0.health == .healthy } })
        #expect(await router.status().map(\.delivered).reduce(0, +) == 20)
        running.cancel()
        await running.value
    }

    @Test("file storage resumes exactly: after a crash mid-line, the torn line is cut and nothing is missing or doubled")
    func fileStorageRecovery() async throws {
        let hub = try Hub()
        defer { hub.close() }
        var router = try hub.router()
        try await router.update { $0.endpoints = [.init(name: "cold", kind: .fileStorage(directory: nil))]; $0.fallbackRoute = FallbackRoute(endpointNames: ["cold"]) }
        var running = Task { [router] in await router.run() }
        #expect(await eventually { await router.status().count == 1 })
        for i in 0..<30 { try await append(hub.log, device: "d\(i % 4)", body: #"{"i":\#(i)}"#) }
        let root = router.fileStorageRoot("cold", nil)
        #expect(await eventually { ((try? storedRecords(root).count) ?? 0) == 30 })
        running.cancel()
        await running.value
        // Simulate a crash: positions lost (as if not yet saved) and a half-written line in the newest file.
        try FileManager.default.removeItem(atPath: hub.locations.positionsDirectory + "/cold.json")
        let newest = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".jsonl") }.sorted().last!
        let handle = try #require(FileHandle(forWritingAtPath: "\(root)/\(newest)"))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"deviceId":"torn","offset":99"#.utf8))
        try handle.close()
        for i in 30..<40 { try await append(hub.log, device: "d\(i % 4)", body: #"{"i":\#(i)}"#) }
        router = try hub.router()
        running = Task { [router] in await router.run() }
        defer { running.cancel() }
        #expect(await eventually { ((try? storedRecords(root).count) ?? 0) >= 40 })
        try await Task.sleep(for: .milliseconds(200))
        let records = try storedRecords(root)
        let indexes = records.compactMap { record -> Int? in
            guard case .object(let body)? = record["body"], case .number(let i)? = body["i"] else { return nil }
            return Int(i)
        }
        #expect(indexes.sorted() == Array(0..<40), "every record once")
        running.cancel()
        await running.value
    }

    @Test("a webhook that is down loses nothing: the endpoint falls behind (lag, unhealthy), then catches up in order")
    func webhookDownThenUp() async throws {
        let hub = try Hub()
        defer { hub.close() }
        let receiver = try await WebhookReceiver()
        let router = try hub.router()
        try await router.update { table in
            table.endpoints = [.init(name: "hook", kind: .webhook(WebhookSettings(url: receiver.url, headers: ["Authorization": "Bearer s3cret"], maxBatchSize: 7)))]
            table.routes = [Route(name: "all", condition: "true", endpointNames: ["hook"])]
        }
        let running = Task { await router.run() }
        defer { running.cancel() }
        #expect(await eventually { await router.status().count == 1 })
        receiver.answer(503)
        for i in 0..<25 { try await append(hub.log, device: "drone-\(i % 5)", body: #"{"i":\#(i)}"#) }
        #expect(await eventually { receiver.refused >= 3 })
        let down = try #require(await router.status().first)
        #expect(down.health == .unhealthy)
        #expect(down.lag == 25)
        #expect(down.delivered == 0)
        #expect(down.lastError == "webhook: HTTP 503")
        receiver.answer(200)
        #expect(await eventually { receiver.records.count >= 25 })
        // The position and health move just after the receiver answered.
        #expect(await eventually {
            guard let up = await router.status().first else { return false }
            return up.health == .healthy && up.lag == 0 && up.delivered == 25
        })
        // Per device, in order; each once.
        var byDevice: [String: [Int]] = [:]
        for record in receiver.records {
            guard case .string(let device)? = record["deviceId"], case .object(let body)? = record["body"], case .number(let i)? = body["i"] else { continue }
            byDevice[device, default: []].append(Int(i)!)
        }
        for (device, indexes) in byDevice {
            #expect(indexes == indexes.sorted(), "\(device) in order")
        }
        #expect(byDevice.values.flatMap { $0 }.sorted() == Array(0..<25))
        #expect(receiver.accepted.allSatisfy { request in
            request.headers.contains { $0.0.lowercased() == "authorization" && $0.1 == "Bearer s3cret" }
                && request.headers.contains { $0.0.lowercased() == "content-type" && $0.1 == "application/json" }
        })
        #expect(receiver.accepted.allSatisfy { request in
            guard case .array(let items)? = try? JSONParser.parse(request.body) else { return false }
            return items.count <= 7
        })
        running.cancel()
        await running.value
        await receiver.close()
    }

    @Test("a queue endpoint is an event log of its own with the routed messages and enrichments")
    func queue() async throws {
        let hub = try Hub()
        defer { hub.close() }
        let router = try hub.router()
        try await router.update { table in
            table.endpoints = [.init(name: "q", kind: .queue)]
            table.routes = [Route(name: "odd", condition: "$body.i % 2 = 1", endpointNames: ["q"])]
            table.enrichments = [Enrichment(key: "via", value: "q", endpointNames: ["q"])]
        }
        let running = Task { await router.run() }
        defer { running.cancel() }
        #expect(await eventually { await router.queue(named: "q") != nil })
        for i in 0..<10 { try await append(hub.log, device: "d1", body: #"{"i":\#(i)}"#) }
        let queue = try #require(await router.queue(named: "q"))
        #expect(await eventually { (try? queue.bounds(partition: 0).next) == 5 })
        let events = try queue.read(partition: 0, from: 0, limit: 10).events
        #expect(events.map { String(decoding: $0.message.body, as: UTF8.self) } == [1, 3, 5, 7, 9].map { #"{"i":\#($0)}"# })
        #expect(events.allSatisfy { $0.message.applicationProperty("via")?.value == "q" })
        running.cancel()
        await running.value
    }

    @Test("table rules: counts, names, references, conditions; a refused change leaves the table as it was")
    func validation() async throws {
        let hub = try Hub()
        defer { hub.close() }
        let router = try hub.router()
        func refused(_ code: RoutingError.Code, _ change: @escaping @Sendable (inout RoutingTable) -> Void) async -> Bool {
            do {
                try await router.update { table throws(RoutingError) in change(&table) }
                return false
            } catch {
                return error.code == code
            }
        }
        #expect(await refused(.invalid) { $0.routes = [Route(name: "r", endpointNames: ["nowhere"])] })
        #expect(await refused(.invalidCondition) { $0.routes = [Route(name: "r", condition: "$body.a >", endpointNames: ["events"])] })
        #expect(await refused(.invalid) { $0.routes = [Route(name: "bad name!", endpointNames: ["events"])] })
        #expect(await refused(.conflict) { $0.endpoints = [.init(name: "events", kind: .queue)] })
        #expect(await refused(.conflict) { $0.routes = [Route(name: "r", endpointNames: ["events"]), Route(name: "r", endpointNames: ["events"])] })
        #expect(await refused(.invalid) { $0.routes = (0...RoutingTable.maxRoutes).map { Route(name: "r\($0)", endpointNames: ["events"]) } })
        #expect(await refused(.invalid) { $0.endpoints = [.init(name: "w", kind: .webhook(WebhookSettings(url: "ftp://x")))] })
        #expect(await refused(.invalid) { $0.enrichments = [Enrichment(key: "k", value: "$twin.nope", endpointNames: ["events"])] })
        #expect(router.table == RoutingTable())
        // 100 routes are fine, and survive a restart through the store.
        try await router.update { $0.routes = (0..<RoutingTable.maxRoutes).map { Route(name: "r\($0)", condition: "a = '\($0)'", endpointNames: ["events"]) } }
        let reopened = try hub.router()
        #expect(reopened.table.routes.count == 100)
        #expect(reopened.table == router.table)
    }

    @Test("decisions: sources, disabled routes, several routes to several endpoints, fallback only when nothing matched")
    func decisions() throws {
        var table = RoutingTable(endpoints: [.init(name: "a", kind: .queue), .init(name: "b", kind: .queue)])
        table.routes = [
            Route(name: "r1", condition: "x = '1'", endpointNames: ["a"]),
            Route(name: "r2", condition: "x = '1' OR y = '1'", endpointNames: ["b"]),
            Route(name: "off", condition: "true", endpointNames: ["a"], isEnabled: false),
            Route(name: "twin", source: .twinChangeEvents, condition: "true", endpointNames: ["b"]),
        ]
        let routing = try table.compiled()
        #expect(routing.decide(event(properties: [("x", "1")]), twin: nil).endpoints == ["a", "b"])
        #expect(routing.decide(event(properties: [("y", "1")]), twin: nil).matchedRoutes == ["r2"])
        let other = routing.decide(event(properties: [("z", "1")]), twin: nil)
        #expect(other.fellBack && other.endpoints == ["events"])
        #expect(routing.decide(event(source: .twinChangeEvents), twin: nil).endpoints == ["b"])
        // Fallback is for device messages only.
        #expect(routing.decide(event(source: .deviceLifecycleEvents), twin: nil).endpoints.isEmpty)
        table.fallbackRoute.isEnabled = false
        #expect(try table.compiled().decide(event(properties: [("z", "1")]), twin: nil).endpoints.isEmpty)
    }

    @Test("the table is stored as JSON operators can read; endpoint JSON uses Azure-like names")
    func storedJSON() throws {
        let table = RoutingTable(
            endpoints: [.init(name: "hook", kind: .webhook(WebhookSettings(url: "https://example.test/in"))), .init(name: "cold", kind: .fileStorage(directory: "/srv/cold"))],
            routes: [Route(name: "all", endpointNames: ["cold"])])
        let data = try JSONEncoder().encode(table)
        let decoded = try JSONDecoder().decode(RoutingTable.self, from: data)
        #expect(decoded == table)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""type":"webhook""#) && text.contains(#""endpointNames":["cold"]"#))
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(RoutingEndpoint.self, from: Data(#"{"name":"x","type":"ftp"}"#.utf8)) }
    }

    @Test("file paths follow the enqueued time in UTC")
    func paths() {
        // 2026-11-24T09:05:59.999Z
        let t = Timestamp(rawValue: Timestamp.daysSince1970(year: 2026, month: 11, day: 24) * 86_400_000 + (9 * 3600 + 5 * 60 + 59) * 1000 + 999)
        #expect(FileStorageSink.relativePath(partition: 3, time: t) == "3/2026/11/24/09/05.jsonl")
        #expect(FileStorageSink.relativePath(partition: 0, time: Timestamp(rawValue: 0)) == "0/1970/01/01/00/00.jsonl")
    }
}
