import HubCore
import HubStreamSQL
import HubTestKit
import Testing

/// Runs `query` over `events` (seconds since 1970 as the enqueued time, and a JSON body), then flushes.
private func run(_ query: String, _ events: [(Int64, String)], configure: (inout SQLJob.Configuration) -> Void = { _ in }) throws -> (rows: [SQLOutputRow], job: SQLJob) {
    var configuration = SQLJob.Configuration()
    configure(&configuration)
    var job = SQLJob(plan: try SQLPlan(query), configuration: configuration)
    var rows: [SQLOutputRow] = []
    for (seconds, body) in events {
        rows += job.process(SQLEvent(record: SQLValue(json: try JSONParser.parse(Array(body.utf8))), enqueuedTime: seconds * 1000))
    }
    rows += job.flush()
    return (rows, job)
}

/// `name=value` of every column, for compact expectations.
private func show(_ row: SQLOutputRow) -> String {
    row.record.members.map { "\($0.name)=\(describe($0.value))" }.joined(separator: " ")
}

private func describe(_ value: SQLValue) -> String {
    switch value {
    case .null: return "null"
    case .bool(let b): return String(b)
    case .int(let n): return String(n)
    case .float(let x): return x == x.rounded() ? String(Int64(x)) : String(x)
    case .string(let s): return s
    case .datetime(let ms): return "@\(ms / 1000)"
    case .array(let items): return "[" + items.map(describe).joined(separator: ",") + "]"
    case .record: return "{…}"
    }
}

@Suite("stream SQL jobs")
struct SQLJobTests {
    @Test("a job is a value: a copy taken mid-window goes on independently of the original")
    func valueSemantics() throws {
        let query = "SELECT deviceId, COUNT(*) AS n INTO out FROM events GROUP BY deviceId, TumblingWindow(second, 10)"
        var original = SQLJob(plan: try SQLPlan(query))
        func event(_ second: Int64, _ device: String) -> SQLEvent {
            SQLEvent(record: .record(SQLRecord([("deviceId", .string(device))])), enqueuedTime: second * 1000)
        }
        _ = original.process(event(1, "a"))
        _ = original.process(event(2, "a"))
        var copy = original
        _ = copy.process(event(3, "a"))
        _ = copy.process(event(4, "b"))
        let fromOriginal = original.process(event(12, "c")).map(show)
        let fromCopy = copy.process(event(12, "c")).map(show)
        #expect(fromOriginal == ["deviceId=a n=2"])
        #expect(fromCopy == ["deviceId=a n=3", "deviceId=b n=1"])
        #expect(original.counters.eventsIn == 3 && copy.counters.eventsIn == 5)
    }

    @Test("a filter and projection emit one row per matching event, at its time")
    func stateless() throws {
        let (rows, _) = try run(
            "SELECT deviceId, CAST(velocity AS float) * 2 AS doubled INTO fast FROM events WHERE CAST(velocity AS float) > 50",
            [(1, #"{"deviceId":"a","velocity":"58.08"}"#), (2, #"{"deviceId":"b","velocity":"12"}"#), (3, #"{"deviceId":"c","velocity":"60"}"#)])
        #expect(rows.map(show) == ["deviceId=a doubled=116.16", "deviceId=c doubled=120"])
        #expect(rows.map(\.output) == ["fast", "fast"] && rows.map(\.time) == [1000, 3000])
    }

    @Test("tumbling windows are (start, end]: an event at the end belongs to it; empty windows emit nothing")
    func tumbling() throws {
        let query = "SELECT deviceId, COUNT(*) AS n, System.Timestamp() AS t FROM events GROUP BY deviceId, TumblingWindow(second, 10)"
        let (rows, _) = try run(query, [
            (1, #"{"deviceId":"a"}"#), (10, #"{"deviceId":"a"}"#), (10, #"{"deviceId":"b"}"#), (11, #"{"deviceId":"a"}"#), (35, #"{"deviceId":"a"}"#),
        ])
        #expect(rows.map(show) == ["deviceId=a n=2 t=@10", "deviceId=b n=1 t=@10", "deviceId=a n=1 t=@20", "deviceId=a n=1 t=@40"])
    }

    @Test("a window is emitted as soon as the watermark passes its end, not only at the end of the input")
    func incremental() throws {
        var job = SQLJob(plan: try SQLPlan("SELECT COUNT(*) AS n FROM events GROUP BY TumblingWindow(second, 10)"))
        func feed(_ s: Int64) -> [String] { job.process(SQLEvent(record: .record(SQLRecord()), enqueuedTime: s * 1000)).map(show) }
        #expect(feed(3) == [])
        #expect(feed(9) == [])
        #expect(feed(10) == [])
        #expect(feed(12) == ["n=3"])
        #expect(job.flush().map(show) == ["n=1"])
    }

    @Test("hopping windows: every event is in size / hop windows")
    func hopping() throws {
        let (rows, _) = try run(
            "SELECT COUNT(*) AS n, System.Timestamp() AS t FROM events GROUP BY HoppingWindow(second, 10, 5)",
            [(1, "{}"), (6, "{}"), (12, "{}")])
        #expect(rows.map(show) == ["n=1 t=@5", "n=2 t=@10", "n=2 t=@15", "n=1 t=@20"])
        let (same, _) = try run(
            "SELECT COUNT(*) AS n FROM events GROUP BY HoppingWindow(Duration(second, 10), Hop(second, 5))", [(1, "{}"), (6, "{}"), (12, "{}")])
        #expect(same.map(show) == ["n=1", "n=2", "n=2", "n=1"])
    }

    @Test("sliding windows emit when an event enters or leaves")
    func sliding() throws {
        let (rows, _) = try run(
            "SELECT COUNT(*) AS n, System.Timestamp() AS t FROM events GROUP BY SlidingWindow(second, 10)",
            [(1, "{}"), (5, "{}"), (14, "{}")])
        #expect(rows.map(show) == ["n=1 t=@1", "n=2 t=@5", "n=1 t=@11", "n=2 t=@14", "n=1 t=@15"])
    }

    @Test("session windows close after the timeout or at the maximum duration")
    func session() throws {
        let (rows, _) = try run(
            "SELECT deviceId, COUNT(*) AS n, System.Timestamp() AS t FROM events GROUP BY deviceId, SessionWindow(second, 5, 20)",
            [(1, #"{"deviceId":"a"}"#), (3, #"{"deviceId":"a"}"#), (7, #"{"deviceId":"a"}"#), (20, #"{"deviceId":"a"}"#), (22, #"{"deviceId":"a"}"#),
             (24, #"{"deviceId":"a"}"#), (28, #"{"deviceId":"a"}"#), (32, #"{"deviceId":"a"}"#), (36, #"{"deviceId":"a"}"#), (41, #"{"deviceId":"a"}"#)])
        // 1–7 ends at 12 (timeout); 20–36 reaches the 20 s maximum at 40; 41 starts a new one, flushed at 46.
        #expect(rows.map(show) == ["deviceId=a n=3 t=@12", "deviceId=a n=6 t=@40", "deviceId=a n=1 t=@46"])
    }

    @Test("snapshot windows group the events of one instant")
    func snapshot() throws {
        let (rows, _) = try run(
            "SELECT COUNT(*) AS n, System.Timestamp() AS t FROM events GROUP BY SnapshotWindow()", [(1, "{}"), (1, "{}"), (2, "{}")])
        #expect(rows.map(show) == ["n=2 t=@1", "n=1 t=@2"])
    }

    @Test("late events are adjusted to the watermark or dropped, and counted either way")
    func late() throws {
        let query = "SELECT COUNT(*) AS n, System.Timestamp() AS t FROM events TIMESTAMP BY ts GROUP BY TumblingWindow(second, 10)"
        let events: [(Int64, String)] = [(0, #"{"ts":"2026-01-01T00:00:05Z"}"#), (0, #"{"ts":"2026-01-01T00:00:25Z"}"#), (0, #"{"ts":"2026-01-01T00:00:06Z"}"#)]
        let (adjusted, job) = try run(query, events)
        #expect(adjusted.map(show) == ["n=1 t=@1767225610", "n=2 t=@1767225630"])
        #expect(job.counters.lateAdjusted == 1 && job.counters.lateDropped == 0)
        let (dropped, dropJob) = try run(query, events) { $0.latePolicy = .drop }
        #expect(dropped.map(show) == ["n=1 t=@1767225610", "n=1 t=@1767225630"])
        #expect(dropJob.counters.lateDropped == 1)
        // Within the out-of-order tolerance the event is on time.
        let (tolerated, toleratedJob) = try run(query, events) { $0.outOfOrderTolerance = 30_000 }
        #expect(tolerated.map(show) == ["n=2 t=@1767225610", "n=1 t=@1767225630"])
        #expect(toleratedJob.counters.lateAdjusted == 0)
    }

    @Test("TIMESTAMP BY … OVER: each drone has its own timeline, so a drone ahead does not make others late")
    func substreams() throws {
        let query = """
            SELECT deviceId, COUNT(*) AS n FROM events TIMESTAMP BY occurrenceUtcTime OVER deviceId
            GROUP BY deviceId, TumblingWindow(second, 30)
            """
        let events: [(Int64, String)] = [
            (0, #"{"deviceId":"a","occurrenceUtcTime":"04/17/2018 20:25:09 +00:00"}"#),
            (0, #"{"deviceId":"b","occurrenceUtcTime":"04/17/2018 20:15:01 +00:00"}"#),
            (0, #"{"deviceId":"b","occurrenceUtcTime":"04/17/2018 20:15:05 +00:00"}"#),
        ]
        let (rows, job) = try run(query, events)
        #expect(job.counters.lateAdjusted == 0)
        #expect(rows.map(show).sorted() == ["deviceId=a n=1", "deviceId=b n=2"])
        let (global, globalJob) = try run(query.replacingOccurrences(of: " OVER deviceId", with: ""), events)
        #expect(globalJob.counters.lateAdjusted == 2, "one timeline: b's events are 10 minutes behind a's")
        #expect(global.map(show).sorted() == ["deviceId=a n=1", "deviceId=b n=2"])
    }

    @Test("LAG over a partition with LIMIT DURATION: the drone scenario's battery drop")
    func lag() throws {
        let query = """
            SELECT deviceId, CAST(batteryLevel AS float) AS level,
                   LAG(CAST(batteryLevel AS float)) OVER (PARTITION BY deviceId LIMIT DURATION(minute, 1)) AS previous
            INTO alarms FROM events
            WHERE LAG(CAST(batteryLevel AS float)) OVER (PARTITION BY deviceId LIMIT DURATION(minute, 1)) - CAST(batteryLevel AS float) > 0.10
            """
        let (rows, _) = try run(query, [
            (0, #"{"deviceId":"a","batteryLevel":"0.90"}"#), (20, #"{"deviceId":"b","batteryLevel":"0.50"}"#),
            (20, #"{"deviceId":"a","batteryLevel":"0.75"}"#), (100, #"{"deviceId":"a","batteryLevel":"0.40"}"#),
            (120, #"{"deviceId":"a","batteryLevel":"0.35"}"#), (130, #"{"deviceId":"b","batteryLevel":"0.30"}"#),
        ])
        // a: 0.90 → 0.75 within a minute (drop 0.15): alarm. 0.75 → 0.40 is 80 s later: outside the duration.
        // b: 0.50 → 0.30 is 110 s later: outside.
        #expect(rows.map(show) == ["deviceId=a level=0.75 previous=0.9"])
    }

    @Test("ISFIRST and LAST")
    func isFirstAndLast() throws {
        let (rows, _) = try run(
            "SELECT deviceId, t FROM events WHERE ISFIRST(minute, 10) OVER (PARTITION BY deviceId) = 1",
            [(0, #"{"deviceId":"a","t":1}"#), (60, #"{"deviceId":"a","t":2}"#), (61, #"{"deviceId":"b","t":3}"#), (600, #"{"deviceId":"a","t":4}"#)])
        #expect(rows.map(show) == ["deviceId=a t=1", "deviceId=b t=3", "deviceId=a t=4"])
        let (last, _) = try run(
            "SELECT t, LAST(t) OVER (PARTITION BY deviceId LIMIT DURATION(second, 30) WHEN t > 1) AS lastBig FROM events",
            [(0, #"{"deviceId":"a","t":5}"#), (10, #"{"deviceId":"a","t":1}"#), (50, #"{"deviceId":"a","t":0}"#)])
        #expect(last.map(show) == ["t=5 lastBig=5", "t=1 lastBig=5", "t=0 lastBig=null"])
    }

    @Test("WITH steps feed later queries with their own times; UNION merges into one output")
    func steps() throws {
        let query = """
            WITH fast AS (SELECT deviceId, CAST(velocity AS float) AS v FROM events WHERE CAST(velocity AS float) > 50)
            SELECT deviceId, COUNT(*) AS n, MAX(v) AS fastest INTO summary FROM fast GROUP BY deviceId, TumblingWindow(second, 60);
            SELECT deviceId, v INTO everyFast FROM fast
            UNION ALL
            SELECT deviceId, 0 AS v FROM events WHERE velocity IS NULL
            """
        let (rows, _) = try run(query, [
            (1, #"{"deviceId":"a","velocity":"58"}"#), (2, #"{"deviceId":"a","velocity":"20"}"#), (3, #"{"deviceId":"a","velocity":"70"}"#),
            (4, #"{"deviceId":"z"}"#),
        ])
        #expect(rows.filter { $0.output == "everyFast" }.map(show) == ["deviceId=a v=58", "deviceId=a v=70", "deviceId=z v=0"])
        #expect(rows.filter { $0.output == "summary" }.map(show) == ["deviceId=a n=2 fastest=70"])
    }

    @Test("the drone scenario's 30-second rollups")
    func droneRollups() throws {
        let query = DroneQueries.all[0].text
        var events: [(Int64, String)] = []
        for (i, second) in [0, 5, 10, 15, 20, 25, 30, 35].enumerated() {
            let velocity = 50 + i
            events.append((0, #"{"deviceId":"d1","sensorType":"drone-event-sensor;v1","occurrenceUtcTime":"04/17/2018 20:25:\#(String(format: "%02d", second)) +00:00","velocity":"\#(velocity)","acceleration":"\#(i).5"}"#))
        }
        events.append((0, #"{"deviceId":"d1","sensorType":"drone-state-sensor;v1","occurrenceUtcTime":"04/17/2018 20:25:12 +00:00","temperature":"70"}"#))
        let (rows, job) = try run(query, events)
        #expect(job.counters.errors == 0)
        // Windows end at :30 and :60 (20:25:30 = 1523996730). (start, end]: :00 belongs to the window ending at :00.
        #expect(rows.map(show) == [
            "deviceId=d1 windowEnd=@1523996700 avgVelocity=50 maxAcceleration=0.5 messages=1",
            "deviceId=d1 windowEnd=@1523996730 avgVelocity=53.5 maxAcceleration=6.5 messages=6",
            "deviceId=d1 windowEnd=@1523996760 avgVelocity=57 maxAcceleration=7.5 messages=1",
        ])
    }

    @Test("an event that fails to evaluate is dropped and counted; the job goes on")
    func errors() throws {
        let (rows, job) = try run("SELECT CAST(v AS float) AS v FROM events", [(1, #"{"v":"1.5"}"#), (2, #"{"v":"oops"}"#), (3, #"{"v":2}"#)])
        #expect(rows.map(show) == ["v=1.5", "v=2"])
        #expect(job.counters.errors == 1 && job.lastError?.message.contains("cannot cast") == true)
    }

    @Test("open groups are bounded; the overflow is counted")
    func bounded() throws {
        let events = (0..<50).map { (Int64(1), #"{"deviceId":"d\#($0)"}"#) }
        let (rows, job) = try run("SELECT deviceId, COUNT(*) AS n FROM events GROUP BY deviceId, TumblingWindow(second, 10)", events) { $0.maximumGroups = 10 }
        #expect(rows.count == 10 && job.counters.overLimit == 40)
    }

    @Test("the same input gives the same output")
    func deterministic() throws {
        let query = "SELECT deviceId, AVG(v) AS a, COUNT(*) AS n FROM events GROUP BY deviceId, HoppingWindow(second, 20, 5)"
        var generator = SplitMix64(state: 7)
        let events = (0..<500).map { i in (Int64(i / 5), #"{"deviceId":"d\#(generator.next() % 7)","v":\#(generator.next() % 100)}"#) }
        let first = try run(query, events).rows, second = try run(query, events).rows
        #expect(first == second && first.count > 100)
    }

    @Test("plan-time errors name the place", arguments: [
        ("SELECT Nope(x) FROM events", 1, 8, "unknown function Nope"),
        ("SELECT AVG(x) FROM events", 1, 8, "AVG is an aggregate: it needs GROUP BY with a window"),
        ("SELECT x, COUNT(*) FROM events GROUP BY TumblingWindow(second, 5)", 1, 8, "x is neither a GROUP BY key nor inside an aggregate"),
        ("SELECT COUNT(*) FROM events GROUP BY deviceId", 1, 38, "GROUP BY needs a window: TumblingWindow, HoppingWindow, SlidingWindow, SessionWindow or SnapshotWindow"),
        ("SELECT * FROM nowhere", 1, 15, "unknown input nowhere (events, or a WITH step defined before this query)"),
        ("SELECT COUNT(*) FROM events GROUP BY TumblingWindow(fortnight, 1)", 1, 53, "unknown time unit fortnight (day, hour, minute, second, millisecond)"),
        ("SELECT COUNT(*) FROM events GROUP BY TumblingWindow(second, 0)", 1, 38, "TumblingWindow needs sizes greater than 0"),
        ("SELECT x FROM events WHERE COUNT(*) > 1", 1, 28, "aggregates belong in HAVING, not WHERE"),
        ("SELECT LAG(x) OVER (PARTITION BY d) FROM events", 1, 8, "LAG needs LIMIT DURATION(…) in its OVER clause"),
    ])
    func planErrors(_ text: String, line: Int, column: Int, message: String) {
        #expect(throws: SQLError(message, at: SQLLocation(line: line, column: column))) { try SQLPlan(text) }
    }
}
