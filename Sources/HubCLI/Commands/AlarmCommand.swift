import ArgumentParser
import Foundation
import NIOHTTP1

/// `meridian alarm …`: the alarms stream jobs raise.
public struct AlarmCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "alarm",
        abstract: "List, acknowledge and clear alarms.",
        discussion: """
            An alarm is active until cleared; a repeat of the same source, type and device counts on the active alarm \
            instead of making a new one. Severities: critical, major, minor, warning, info.
            """,
        subcommands: [List.self, Show.self, Ack.self, Clear.self, Counts.self])

    public init() {}

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List alarms, newest first.")
        @Option(help: "active, cleared, or active-unacknowledged, active-acknowledged, cleared-unacknowledged, cleared-acknowledged.")
        var status: String?
        @Option(help: "critical, major, minor, warning or info.") var severity: String?
        @Option(help: "Only this device's alarms.") var deviceId: String?
        @Option(help: "Only alarms raised by this source (e.g. job:drones).") var source: String?
        @Option(help: "Only alarms of this type.") var type: String?
        @Option(help: "At most this many (1-1000).") var top = 100
        @OptionGroup var options: ClientOptions
        func run() async throws {
            var query: [String] = ["top=\(top)"]
            for (name, value) in [("status", status), ("severity", severity), ("deviceId", deviceId), ("source", source), ("type", type)] {
                if let value { query.append("\(name)=\(Path.escape(value))") }
            }
            let alarms = try await options.client().request(.GET, "/alarms?\(query.joined(separator: "&"))").json as? [[String: Any]] ?? []
            if options.json { return Output.json(alarms) }
            Output.table(
                ["ID", "SEVERITY", "STATUS", "DEVICE", "TYPE", "COUNT", "LAST", "SOURCE", "MESSAGE"],
                alarms.map { a in
                    [Output.text(a["id"]), Output.text(a["severity"]), Output.text(a["status"]), Output.text(a["deviceId"]), Output.text(a["type"]),
                     Output.text(a["count"]), Output.text(a["lastOccurrence"]), Output.text(a["source"]), Output.text(a["message"])]
                })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an alarm with its details.")
        @Argument(help: "The alarm's id.") var id: Int64
        @OptionGroup var options: ClientOptions
        func run() async throws {
            AlarmCommand.print(try await options.client().request(.GET, "/alarms/\(id)").json, options)
        }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Acknowledge an alarm.")
        @Argument(help: "The alarm's id.") var id: Int64
        @OptionGroup var options: ClientOptions
        func run() async throws {
            AlarmCommand.print(try await options.client().request(.POST, "/alarms/\(id)/acknowledge").json, options)
        }
    }

    struct Clear: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Clear an alarm (the next occurrence raises a new one).")
        @Argument(help: "The alarm's id.") var id: Int64
        @OptionGroup var options: ClientOptions
        func run() async throws {
            AlarmCommand.print(try await options.client().request(.POST, "/alarms/\(id)/clear").json, options)
        }
    }

    struct Counts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Active alarms by severity.")
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let counts = try await options.client().request(.GET, "/statistics/alarms").json as? [String: Any] ?? [:]
            if options.json { return Output.json(counts) }
            Output.fields(["critical", "major", "minor", "warning", "info"].map { ($0, Output.text(counts[$0])) })
        }
    }

    static func print(_ value: Any?, _ options: ClientOptions) {
        guard let a = value as? [String: Any] else { return }
        if options.json { return Output.json(a) }
        let details = (try? JSONSerialization.data(withJSONObject: a["details"] ?? [:], options: [.sortedKeys, .fragmentsAllowed]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "-"
        Output.fields([
            ("alarm", Output.text(a["id"])), ("severity", Output.text(a["severity"])), ("status", Output.text(a["status"])),
            ("device", Output.text(a["deviceId"])), ("type", Output.text(a["type"])), ("source", Output.text(a["source"])),
            ("count", Output.text(a["count"])), ("first", Output.text(a["firstOccurrence"])), ("last", Output.text(a["lastOccurrence"])),
            ("message", Output.text(a["message"])), ("details", details),
        ])
    }
}
