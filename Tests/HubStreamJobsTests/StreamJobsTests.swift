import Foundation
import HubCore
import HubEventLog
import HubMessaging
import HubStreamSQL
import HubTestKit
import Synchronization
import Testing

@testable import HubStreamJobs

/// What the test's actions saw.
final class Captured: Sendable {
    let alarms = Mutex<[AlarmRaise]>([])
    let commands = Mutex<[(String, String)]>([])

    var actions: JobActions {
        JobActions(
            raiseAlarm: { raise in self.alarms.withLock { $0.append(raise) } },
            sendCloudToDevice: { device, body, _ in self.commands.withLock { $0.append((device, String(decoding: body, as: UTF8.self))) } })
    }
}

func append(_ log: EventLog, device: String, json: String) async throws {
    try await log.appendTelemetry(device: device, json: json)
}

/// Drone status messages in the scenario's format (time as "MM/dd/yyyy HH:mm:ss +00:00").
func status(_ device: String, second: Int, battery: Double) -> String {
    let minute = second / 60, s = second % 60
    let time = "11/24/2026 10:\(minute < 10 ? "0" : "")\(minute):\(s < 10 ? "0" : "")\(s) +00:00"
    return #"{"deviceId":"\#(device)","sensorType":"drone-state-sensor;v1","occurrenceUtcTime":"\#(time)","batteryLevel":"\#(battery)"}"#
}

@Suite("Stream jobs over a real event log")
struct StreamJobsTests {
    /// A real event log and the stream jobs over it.
    struct Hub {
        let fixture: EventLogFixture
        var log: EventLog { fixture.log }
        var dir: TemporaryDirectory { fixture.dir }

        init() throws {
            fixture = try EventLogFixture()
        }

        func jobs(_ captured: Captured) throws -> StreamJobs {
            try StreamJobs(log: log, directory: dir.appending("jobs"), actions: captured.actions)
        }

        func close() { fixture.close() }
    }

    @Test("a job raises alarms and sends a C2D command per matching row; numbers show in its status")
    func alarmsAndCommands() async throws {
        let hub = try Hub()
        defer { hub.close() }
        let captured = Captured()
        let jobs = try hub.jobs(captured)
        let running = Task { await jobs.run() }
        try await jobs.put(StreamJobDefinition(name: "battery", query: """
            SELECT deviceId, CAST(batteryLevel AS float) AS level, 'critical' AS severity
            INTO alarms FROM events TIMESTAMP BY occurrenceUtcTime
            WHERE sensorType = 'drone-state-sensor;v1' AND CAST(batteryLevel AS float) < 0.2;
            SELECT deviceId, 'returnToBase' AS command INTO command FROM events TIMESTAMP BY occurrenceUtcTime
            WHERE CAST(batteryLevel AS float) < 0.1
            """, outputs: ["command": JobOutput(type: .c2d)]))
        // Generous waits: the whole Swift suite runs in parallel on two cores in CI.
        #expect(await eventually(30) { await jobs.status("battery")?.state == .running })
        for (i, battery) in [0.9, 0.5, 0.15, 0.05].enumerated() {
            try await append(hub.log, device: "drone-\(i % 2)", json: status("drone-\(i % 2)", second: i, battery: battery))
        }
        try await append(hub.log, device: "drone-x", json: "not json")
        #expect(await eventually(30) { captured.alarms.withLock { $0.count } == 2 && captured.commands.withLock { $0.count } == 1 })
        let alarms = captured.alarms.withLock { $0 }
        #expect(alarms.map(\.deviceID) == ["drone-0", "drone-1"])
        #expect(alarms.allSatisfy { $0.severity == .critical && $0.source == "job:battery" && $0.type == "alarms" })
        let command = try #require(captured.commands.withLock { $0.first })
        #expect(command.0 == "drone-1" && command.1 == #"{"deviceId":"drone-1","command":"returnToBase"}"#)
        #expect(await eventually(30) {
            guard let status = await jobs.status("battery") else { return false }
            return status.eventsIn == 4 && status.errors == 1 && status.rowsOut["alarms"] == 2 && status.rowsOut["command"] == 1 && status.lag == 0
        })
        // Every delivered row's latency from acceptance to delivery is counted (milliseconds here).
        let latency = try #require(await jobs.status("battery")?.outputLatency)
        #expect(latency.count == 3 && latency.p50 >= 1000 && latency.max < 10_000_000)
        running.cancel()
        await running.value
    }

    @Test("bad jobs are refused at create time with the query's line and column, or the setting at fault")
    func validation() async throws {
        let hub = try Hub()
        defer { hub.close() }
        let jobs = try hub.jobs(Captured())
        func refused(_ definition: StreamJobDefinition) async -> StreamJobError? {
            do {
                try await jobs.put(definition)
                return nil
            } catch {
                return error
            }
        }
        let syntax = await refused(StreamJobDefinition(name: "j", query: "SELECT * INTO x FROM events WHERE"))
        #expect(syntax?.code == .invalidQuery && syntax?.message.hasPrefix("line 1, column 34") == true, "\(String(describing: syntax))")
        let function = await refused(StreamJobDefinition(name: "j", query: "SELECT NoSuch(a) INTO x FROM events"))
        #expect(function?.code == .invalidQuery)
        let output = await refused(StreamJobDefinition(name: "j", query: "SELECT * INTO x FROM events", outputs: ["y": JobOutput(type: .memory)]))
        #expect(output?.message.contains("not an INTO target") == true)
        let webhook = await refused(StreamJobDefinition(name: "j", query: "SELECT * INTO x FROM events", outputs: ["x": JobOutput(type: .webhook)]))
        #expect(webhook?.message.contains("needs a url") == true)
        #expect(await refused(StreamJobDefinition(name: "bad name", query: "SELECT * INTO x FROM events"))?.code == .invalid)
        #expect(await refused(StreamJobDefinition(name: "j", query: "SELECT * INTO x FROM events", latePolicy: "keep"))?.code == .invalid)
        #expect(await jobs.list().isEmpty)
    }

    @Test("stopped and started again (or reopened after a restart), a windowed job neither loses nor repeats a window")
    func restartIsExactlyOnce() async throws {
        let hub = try Hub()
        defer { hub.close() }
        let captured = Captured()
        let query = """
            SELECT deviceId, System.Timestamp() AS windowEnd, COUNT(*) AS n, MIN(CAST(batteryLevel AS float)) AS low
            INTO alarms FROM events TIMESTAMP BY occurrenceUtcTime
            GROUP BY deviceId, TumblingWindow(second, 10)
            """
        var jobs = try hub.jobs(captured)
        var running = Task { [jobs] in await jobs.run() }
        try await jobs.put(StreamJobDefinition(name: "windows", query: query, startFrom: "earliest"))
        // 3 drones, one status per second from second 1 to 24: windows (0,10] and (10,20] close (Stream
        // Analytics' windows include their end); (20,30] stays open.
        for second in 1..<25 {
            for drone in 0..<3 { try await append(hub.log, device: "d\(drone)", json: status("d\(drone)", second: second, battery: 1 - Double(second) / 100)) }
        }
        #expect(await eventually { captured.alarms.withLock { $0.count } == 6 })
        // A stop and start: the job replays to rebuild [20,30) and delivers nothing twice.
        _ = try await jobs.setEnabled("windows", false)
        _ = try await jobs.setEnabled("windows", true)
        for second in 25..<32 {
            for drone in 0..<3 { try await append(hub.log, device: "d\(drone)", json: status("d\(drone)", second: second, battery: 0.5)) }
        }
        #expect(await eventually { captured.alarms.withLock { $0.count } == 9 })
        // A restart of the hub: a new StreamJobs over the same directory.
        running.cancel()
        await running.value
        jobs = try hub.jobs(captured)
        running = Task { [jobs] in await jobs.run() }
        for second in 32..<42 {
            for drone in 0..<3 { try await append(hub.log, device: "d\(drone)", json: status("d\(drone)", second: second, battery: 0.4)) }
        }
        #expect(await eventually { captured.alarms.withLock { $0.count } == 12 })
        try await Task.sleep(for: .milliseconds(300))
        let windows = captured.alarms.withLock { $0 }.map { raise -> String in
            guard case .object(let details) = raise.details, case .string(let end)? = details["windowEnd"], case .number(let n)? = details["n"] else { return "?" }
            return "\(raise.deviceID) \(end) \(n)"
        }
        #expect(Set(windows).count == windows.count, "no window twice: \(windows)")
        #expect(windows.count == 12)
        #expect(windows.allSatisfy { $0.hasSuffix(" 10") }, "every window whole: \(windows)")
        let status = try #require(await jobs.status("windows"))
        #expect(status.suppressedOnReplay > 0)
        running.cancel()
        await running.value
    }
}
