import HubCore
import HubStreamSQL
import Testing

private func event(_ json: String) throws -> SQLValue { SQLValue(json: try JSONParser.parse(Array(json.utf8))) }

private func iso(_ seconds: Int64) -> String { Timestamp(rawValue: 1_767_225_600_000 + seconds * 1000).iso8601 }

@Suite("stream SQL stream joins")
struct SQLStreamJoinTests {
    @Test("the drone scenario's query 3: a drone silent for 60 s after a status report is reported once its minute has passed")
    func silence() throws {
        var job = SQLJob(plan: try SQLPlan(DroneQueries.all[2].text))
        var beforeFlush: [SQLOutputRow] = []
        // d1 reports status every 20 s until 100 s, then falls silent; d2 reports flight data every 5 s until 200 s.
        var events: [(Int64, String)] = []
        for t in stride(from: Int64(0), through: 100, by: 20) {
            events.append((t, #"{"deviceId":"d1","sensorType":"drone-state-sensor;v1","occurrenceUtcTime":"\#(iso(t))"}"#))
        }
        for t in stride(from: Int64(0), through: 200, by: 5) {
            let type = t % 20 == 0 ? "drone-state-sensor;v1" : "drone-event-sensor;v1"
            events.append((t, #"{"deviceId":"d2","sensorType":"\#(type)","occurrenceUtcTime":"\#(iso(t))"}"#))
        }
        for (_, body) in events.sorted(by: { $0.0 < $1.0 }) {
            beforeFlush += job.process(SQLEvent(record: try event(body), enqueuedTime: 0))
        }
        let atEnd = job.flush()
        #expect(job.counters.errors == 0 && job.counters.lateAdjusted == 0)
        // d1's last report (100 s) has no follower within 60 s: known as soon as the stream passes 160 s.
        #expect(beforeFlush.map { "\($0.record["deviceId"]!) \($0.record["lastSeen"]!)" } == [#"string("d1") string("\#(iso(100))")"#])
        #expect(beforeFlush.first?.output == "alarms")
        // At the end of the input d2's last status report (200 s) has none either.
        #expect(atEnd.map { "\($0.record["deviceId"]!) \($0.record["lastSeen"]!)" } == [#"string("d2") string("\#(iso(200))")"#])
    }

    @Test("an inner join pairs events within the bounds, each pair once, in either arrival order")
    func inner() throws {
        let query = """
            SELECT a.job AS job, DATEDIFF(second, a, b) AS took
            FROM events a TIMESTAMP BY at
            JOIN events b TIMESTAMP BY at ON a.job = b.job AND DATEDIFF(second, a, b) BETWEEN 0 AND 5
            WHERE a.kind = 'start' AND b.kind = 'stop'
            """
        var job = SQLJob(plan: try SQLPlan(query), configuration: { var c = SQLJob.Configuration(); c.outOfOrderTolerance = 10_000; return c }())
        var rows: [SQLOutputRow] = []
        let inputs: [String] = [
            #"{"job":"x","kind":"start","at":"\#(iso(0))"}"#, #"{"job":"y","kind":"start","at":"\#(iso(1))"}"#,
            #"{"job":"x","kind":"stop","at":"\#(iso(3))"}"#,
            #"{"job":"z","kind":"stop","at":"\#(iso(9))"}"#, #"{"job":"z","kind":"start","at":"\#(iso(7))"}"#,  // stop arrives before its start
            #"{"job":"y","kind":"stop","at":"\#(iso(20))"}"#,  // too late for y
        ]
        for body in inputs { rows += job.process(SQLEvent(record: try event(body), enqueuedTime: 0)) }
        rows += job.flush()
        #expect(rows.map { "\($0.record["job"]!) \($0.record["took"]!)" }.sorted() == [#"string("x") int(3)"#, #"string("z") int(2)"#])
    }

    @Test("stream joins need DATEDIFF bounds")
    func bounds() {
        #expect {
            try SQLPlan("SELECT a.x FROM events a JOIN events b ON a.x = b.x")
        } throws: { error in
            (error as? SQLError)?.message.contains("needs DATEDIFF(unit, a, b) BETWEEN low AND high") == true
        }
    }
}
