import Foundation
import HubCore
import HubStreamSQL
import HubTestKit
import Testing

@testable import HubStreamJobs

@Suite("Alarm rules (the friendly layer over stream SQL)")
struct AlarmRuleTests {
    @Test("every shape of rule generates a query that plans", arguments: [
        AlarmRule(field: "temperature", operator: .greater, threshold: 80),
        AlarmRule(field: "temperature", aggregate: .avg, windowSeconds: 60, operator: .greaterOrEqual, threshold: 80.5, severity: .critical),
        AlarmRule(field: "batteryLevel", aggregate: .min, windowSeconds: 10, operator: .less, threshold: 0.2, where: "sensorType = 'drone-state-sensor;v1'",
                  deviceTag: .init(name: "type", value: "drone's"), message: "battery 'low'", action: .init(type: .c2d, name: "returnToBase")),
        AlarmRule(field: "engine.rpm", aggregate: .count, windowSeconds: 5, operator: .notEqual, threshold: 0, action: .init(type: .method, name: "reboot")),
    ])
    func plans(_ rule: AlarmRule) throws {
        let job = try rule.job(named: "r1")
        let plan = try job.validated()
        #expect(job.name == "rule-r1" && job.rule == rule)
        #expect(Set(plan.outputs.map { $0.lowercased() }) == (rule.action == nil ? ["alarms"] : ["alarms", "action"]))
        #expect(job.output("alarms").type == .alarm && job.output("alarms").severity == rule.severity && job.output("alarms").alarmType == "r1")
    }

    @Test("bad rules are refused: field names, windows, thresholds, actions", arguments: [
        AlarmRule(field: "temp; DROP", operator: .greater, threshold: 1),
        AlarmRule(field: "t", aggregate: .avg, operator: .greater, threshold: 1),
        AlarmRule(field: "t", windowSeconds: 10, operator: .greater, threshold: 1),
        AlarmRule(field: "t", operator: .greater, threshold: .infinity),
        AlarmRule(field: "t", operator: .greater, threshold: 1, action: .init(type: .method, name: "")),
        AlarmRule(field: "t", operator: .greater, threshold: 1, deviceTag: .init(name: "a b", value: "x")),
    ])
    func refused(_ rule: AlarmRule) {
        #expect(throws: StreamJobError.self) { _ = try rule.job(named: "r") }
    }

    @Test("a per-message rule and a windowed one raise alarms and act, over a real event log")
    func runs() async throws {
        let hub = try StreamJobsTests.Hub()
        defer { hub.close() }
        let captured = Captured()
        let jobs = try hub.jobs(captured)
        let running = Task { await jobs.run() }
        var instant = try AlarmRule(field: "temperature", operator: .greater, threshold: 80, severity: .major, message: "too hot",
            action: .init(type: .c2d, name: "coolDown")).job(named: "hot")
        instant.startFrom = "earliest"
        try await jobs.put(instant)
        var windowed = try AlarmRule(field: "temperature", aggregate: .avg, windowSeconds: 10, operator: .greater, threshold: 70, severity: .critical)
            .job(named: "hot-average")
        windowed.startFrom = "earliest"
        try await jobs.put(windowed)
        // Times come from arrival here (rules have no TIMESTAMP BY): drone-1 averages 75, drone-2 60.
        for (device, temperature) in [("drone-1", "70"), ("drone-1", "80"), ("drone-2", "60"), ("drone-1", "85.5"), ("drone-2", "not a number")] {
            try await append(hub.log, device: device, json: #"{"deviceId":"\#(device)","temperature":"\#(temperature)"}"#)
        }
        #expect(await eventually { captured.alarms.withLock { $0.count } >= 1 && captured.commands.withLock { $0.count } == 1 })
        let instantAlarm = try #require(captured.alarms.withLock { $0.first { $0.source == "job:rule-hot" } })
        #expect(instantAlarm.deviceID == "drone-1" && instantAlarm.severity == .major && instantAlarm.type == "hot" && instantAlarm.message == "too hot")
        let command = try #require(captured.commands.withLock { $0.first })
        #expect(command.0 == "drone-1")
        #expect(try JSONParser.parse(Array(command.1.utf8)) == JSONParser.parse(Array(#"{"deviceId":"drone-1","command":"coolDown","rule":"hot","value":85.5}"#.utf8)))
        running.cancel()
        await running.value
    }
}
