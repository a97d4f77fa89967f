import ArgumentParser
import Foundation
import NIOHTTP1

/// `meridian rule …`: alarm rules, the friendly layer over stream SQL (each runs as the job `rule-<name>`).
public struct RuleCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rule",
        abstract: "Alarm rules: a condition on a message field, an alarm, and optionally a command to the device.",
        discussion: """
            Example: when a drone's average temperature over 60 s is above 80, raise a critical alarm and call returnToBase:
              meridian rule create overheat --field temperature --aggregate avg --window 60 --operator '>' --threshold 80 \\
                --where "sensorType = 'drone-state-sensor;v1'" --device-tag type=drone --severity critical --method returnToBase
            A rule runs as the stream job rule-<name> (see `meridian job sql show rule-<name>` for its query and numbers).
            """,
        subcommands: [Create.self, List.self, Show.self, Start.self, Stop.self, Delete.self])

    public init() {}

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create or change a rule (it starts at once).")
        @Argument(help: "The rule's name.") var name: String
        @Option(help: "The message field to watch (numbers as text are converted).") var field: String
        @Option(help: "avg, min, max, sum or count over a window (omit to check every message).") var aggregate: String?
        @Option(help: "The window of an aggregate, in seconds.") var window: Int?
        @Option(name: .customLong("operator"), help: "> >= < <= = or !=.") var comparison: String
        @Option(help: "The threshold.") var threshold: Double
        @Option(help: "An extra condition in the query language.") var `where`: String?
        @Option(help: "Only devices whose twin has this tag: NAME=VALUE.") var deviceTag: String?
        @Option(help: "critical, major, minor, warning or info.") var severity = "warning"
        @Option(help: "The alarm's message.") var message: String?
        @Option(help: "Send this command to the device as a cloud-to-device message.") var c2d: String?
        @Option(help: "Call this direct method on the device.") var method: String?
        @OptionGroup var options: ClientOptions

        func run() async throws {
            var body: [String: Any] = ["field": field, "operator": comparison, "threshold": threshold, "severity": severity]
            if let aggregate { body["aggregate"] = aggregate }
            if let window { body["windowSeconds"] = window }
            if let `where` { body["where"] = `where` }
            if let message { body["message"] = message }
            if let deviceTag {
                guard let equals = deviceTag.firstIndex(of: "=") else { throw ValidationError("--device-tag takes NAME=VALUE") }
                body["deviceTag"] = ["name": String(deviceTag[..<equals]), "value": String(deviceTag[deviceTag.index(after: equals)...])]
            }
            if c2d != nil && method != nil { throw ValidationError("--c2d and --method exclude each other") }
            if let c2d { body["action"] = ["type": "c2d", "name": c2d] }
            if let method { body["action"] = ["type": "method", "name": method] }
            RuleCommand.print(try await options.client().request(.PUT, "/rules/\(Path.escape(name))", body: body).json, options)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the rules with their state and numbers.")
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let rules = try await options.client().request(.GET, "/rules").json as? [[String: Any]] ?? []
            if options.json { return Output.json(rules) }
            Output.table(["RULE", "CONDITION", "SEVERITY", "ACTION", "STATE", "ALARMS"], rules.map { r in
                let status = r["status"] as? [String: Any] ?? [:]
                let action = (r["action"] as? [String: Any]).map { "\(Output.text($0["type"])) \(Output.text($0["name"]))" } ?? "-"
                return [Output.text(r["name"]), RuleCommand.condition(r), Output.text(r["severity"]), action, Output.text(status["state"]),
                        Output.text((status["rowsOut"] as? [String: Any])?["alarms"] ?? 0)]
            })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a rule, the query it runs and its numbers.")
        @Argument(help: "The rule's name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            RuleCommand.print(try await options.client().request(.GET, "/rules/\(Path.escape(name))").json, options)
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a stopped rule.")
        @Argument(help: "The rule's name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            try await options.client().request(.POST, "/jobs/sql/rule-\(Path.escape(name))/start")
            RuleCommand.print(try await options.client().request(.GET, "/rules/\(Path.escape(name))").json, options)
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a rule (it raises nothing until started).")
        @Argument(help: "The rule's name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            try await options.client().request(.POST, "/jobs/sql/rule-\(Path.escape(name))/stop")
            RuleCommand.print(try await options.client().request(.GET, "/rules/\(Path.escape(name))").json, options)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a rule (its alarms stay).")
        @Argument(help: "The rule's name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            try await options.client().request(.DELETE, "/rules/\(Path.escape(name))")
            if options.json { Output.json(["deleted": name]) } else { Swift.print("deleted rule \(name)") }
        }
    }

    /// `avg(temperature) over 60 s > 80 where … for type=drone`.
    static func condition(_ r: [String: Any]) -> String {
        var text = Output.text(r["field"])
        if let aggregate = r["aggregate"] as? String { text = "\(aggregate)(\(text)) over \(Output.text(r["windowSeconds"])) s" }
        text += " \(Output.text(r["operator"])) \(Output.text(r["threshold"]))"
        if let extra = r["where"] as? String { text += " where \(extra)" }
        if let tag = r["deviceTag"] as? [String: Any] { text += " for \(Output.text(tag["name"]))=\(Output.text(tag["value"]))" }
        return text
    }

    static func print(_ value: Any?, _ options: ClientOptions) {
        guard let r = value as? [String: Any] else { return }
        if options.json { return Output.json(r) }
        let status = r["status"] as? [String: Any] ?? [:]
        Output.fields([
            ("rule", Output.text(r["name"])), ("when", condition(r)), ("severity", Output.text(r["severity"])),
            ("action", (r["action"] as? [String: Any]).map { "\(Output.text($0["type"])) \(Output.text($0["name"]))" } ?? "-"),
            ("job", Output.text(r["job"])), ("state", Output.text(status["state"])), ("events in", Output.text(status["eventsIn"])),
            ("alarms raised", Output.text((status["rowsOut"] as? [String: Any])?["alarms"] ?? 0)), ("last error", Output.text(status["lastError"])),
        ])
        Swift.print("query:\n\(Output.text(r["query"]))")
    }
}
