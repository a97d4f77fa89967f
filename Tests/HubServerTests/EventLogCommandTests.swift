import Foundation
import HubCore
import HubEventLog
import HubTestKit
import Logging
import Testing

@testable import HubServer

/// `meridian eventlog dump` / `stats` and the `OfflineEventLog` under them, on a log written through the
/// `EventLog` API; and the data directory lock as the real binary sees it.
@Suite("eventlog command")
struct EventLogCommandTests {
    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// A data directory whose 2-partition log holds `perDevice` messages from each of `devices`.
    static func makeLog(_ dataDirectory: String, devices: [String], perDevice: Int) async throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        var configuration = EventLog.Configuration()
        configuration.partitionCount = 2
        configuration.maxBatchDelay = .milliseconds(1)
        let log = try EventLog(directory: OfflineEventLog.directory(inDataDirectory: dataDirectory), configuration: configuration, logger: quiet)
        defer { log.close() }
        for i in 0..<perDevice {
            for device in devices {
                let message = DeviceMessage(
                    body: Array(#"{"device":"\#(device)","seq":\#(i)}"#.utf8), messageID: "\(device)-\(i)",
                    contentType: "application/json", applicationProperties: [.init("seq", "\(i)")],
                    connectionDeviceID: DeviceID(rawValue: device))
                try await log.append(message, partitionKey: device)
            }
        }
    }

    static func lines(_ output: String) throws -> [[String: Any]] {
        try output.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        }
    }

    @Test("dump: every event once, partition then offset order, --partition/--from/--limit")
    func dumpInProcess() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let devices = (0..<6).map { "dev-\($0)" }
        try await Self.makeLog(dir.path, devices: devices, perDevice: 5)
        let log = try OfflineEventLog.open(dataDirectory: dir.path, logger: Self.quiet)
        defer { log.close() }
        var output: [UInt8] = []
        #expect(try log.dump(write: { output += $0 }) == 30)
        let all = try Self.lines(String(decoding: output, as: UTF8.self))
        let order = all.map { ($0["partition"] as! Int, ($0["offset"] as! NSNumber).int64Value) }
        #expect(order.map(\.0) == order.map(\.0).sorted())
        for partition in 0..<2 {
            #expect(order.filter { $0.0 == partition }.map(\.1) == Array(0..<Int64(order.filter { $0.0 == partition }.count)))
        }
        #expect(Set(all.map { ($0["systemProperties"] as! [String: Any])["message-id"] as! String }).count == 30)
        for device in devices {
            let seqs = all.filter { $0["deviceId"] as? String == device }.map { ($0["body"] as! [String: Any])["seq"] as! Int }
            #expect(seqs == Array(0..<5), "\(device) in order")
            let partitions = Set(all.filter { $0["deviceId"] as? String == device }.map { $0["partition"] as! Int })
            #expect(partitions == [EventLog.partition(for: device, count: 2)])
        }
        #expect(all[0]["bodyEncoding"] as? String == "json")
        #expect((all[0]["properties"] as? [String: String])?["seq"] != nil)

        output = []
        #expect(try log.dump(partition: 1, from: 2, limit: 3, write: { output += $0 }) == 3)
        let some = try Self.lines(String(decoding: output, as: UTF8.self))
        #expect(some.map { ($0["offset"] as! NSNumber).int64Value } == [2, 3, 4])
        #expect(some.allSatisfy { $0["partition"] as? Int == 1 })
        output = []
        #expect(try log.dump(limit: 7, write: { output += $0 }) == 7)
        #expect(try log.dump(from: 1_000, write: { _ in }) == 0)
        #expect(throws: HubServerError.self) { try log.dump(partition: 2, write: { _ in }) }

        let stats = try log.stats()
        #expect(stats.map(\.partition) == [0, 1])
        #expect(stats.reduce(0) { $0 + $1.next - $1.earliest } == 30)
        #expect(stats.allSatisfy { $0.segments == 1 && $0.earliest == 0 && ($0.next == 0 || $0.bytes > 0) })
    }

    @Test("no event log: a clear error, and nothing is created")
    func noLog() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        #expect {
            try OfflineEventLog.open(dataDirectory: dir.path, logger: Self.quiet)
        } throws: { error in
            "\(error)" == "no event log in \(dir.path) (no \(dir.path)/events/partitions)"
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appending("events")))
    }
}

/// The same through the `meridian` executable: output, exit codes and the lock between processes.
@Suite("eventlog command (binary)", .enabled(if: MeridianBinary.path != nil, "the meridian executable was not built"))
struct EventLogCommandBinaryTests {
    @Test("dump prints JSON lines; stats prints the extents; bad arguments exit 64")
    func dumpAndStats() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try await EventLogCommandTests.makeLog(dir.path, devices: ["a", "b", "c"], perDevice: 4)
        let dump = try await ProcessRunner.run(MeridianBinary.path!, ["eventlog", "dump", "--data-dir", dir.path])
        #expect(dump.exitCode == 0, "\(dump.output)")
        let lines = try EventLogCommandTests.lines(dump.output)
        #expect(lines.count == 12)
        #expect(lines.map { $0["partition"] as! Int } == lines.map { $0["partition"] as! Int }.sorted())

        let one = try await ProcessRunner.run(
            MeridianBinary.path!, ["eventlog", "dump", "--data-dir", dir.path, "--partition", "0", "--from", "1", "--limit", "2"])
        #expect(one.exitCode == 0, "\(one.output)")
        let partition0 = lines.filter { $0["partition"] as? Int == 0 }
        let expected = Array(partition0.dropFirst().prefix(2)).map { ($0["offset"] as! NSNumber).int64Value }
        #expect(try EventLogCommandTests.lines(one.output).map { ($0["offset"] as! NSNumber).int64Value } == expected)

        let stats = try await ProcessRunner.run(MeridianBinary.path!, ["eventlog", "stats", "--data-dir", dir.path, "--json"])
        #expect(stats.exitCode == 0, "\(stats.output)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(stats.output.utf8)) as? [[String: Any]])
        #expect(rows.map { $0["partition"] as? Int } == [0, 1])
        #expect(rows.reduce(0) { $0 + ($1["events"] as! Int) } == 12)

        let badPartition = try await ProcessRunner.run(MeridianBinary.path!, ["eventlog", "dump", "--data-dir", dir.path, "--partition", "5"])
        #expect(badPartition.exitCode == 64)
        #expect(badPartition.output == "meridian: no partition 5 (the log has 2: 0…1)\n")
        let negative = try await ProcessRunner.run(MeridianBinary.path!, ["eventlog", "dump", "--data-dir", dir.path, "--limit", "-1"])
        #expect(negative.exitCode == 64)
    }

    @Test("a running hub holds the lock: a second hub and eventlog dump exit 75; after kill -9 the lock is free")
    func lockBetweenProcesses() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let data = dir.appending("data")
        let ports = try await FreePorts.pick(5)
        let log = dir.appending("meridian.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let hub = Process()
        hub.executableURL = URL(fileURLWithPath: MeridianBinary.path!)
        hub.arguments = [
            "serve", "--data-dir", data, "--bind", "127.0.0.1", "--mqtt-port", "\(ports[0])", "--mqtts-port", "0",
            "--http-port", "\(ports[1])", "--https-port", "0",
        ]
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        hub.standardOutput = handle
        hub.standardError = handle
        try hub.run()
        defer { if hub.isRunning { kill(hub.processIdentifier, SIGKILL) } }
        func output() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(30)
        while !output().contains("meridian ready") && hub.isRunning && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(output().contains("meridian ready"), "\(output())")
        let holder = "pid \(hub.processIdentifier) (meridian serve)"

        let second = try await ProcessRunner.run(
            MeridianBinary.path!,
            ["serve", "--data-dir", data, "--bind", "127.0.0.1", "--mqtt-port", "\(ports[2])", "--mqtts-port", "0",
             "--http-port", "\(ports[3])", "--https-port", "0"])
        #expect(second.exitCode == 75)
        #expect(second.output == "meridian: data-dir \(data) is in use by \(holder) (\(data)/.lock is locked); stop it first, or use another --data-dir\n")
        let dump = try await ProcessRunner.run(MeridianBinary.path!, ["eventlog", "dump", "--data-dir", data])
        #expect(dump.exitCode == 75)
        #expect(dump.output.hasPrefix("meridian: data-dir \(data) is in use by \(holder)"))

        kill(hub.processIdentifier, SIGKILL)
        hub.waitUntilExit()
        let after = try await ProcessRunner.run(MeridianBinary.path!, ["eventlog", "stats", "--data-dir", data])
        #expect(after.exitCode == 0, "\(after.output)")
        #expect(after.output.hasPrefix("PARTITION  EARLIEST  NEXT"))
    }
}
