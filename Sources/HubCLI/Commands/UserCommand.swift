import ArgumentParser
import Foundation
import NIOHTTP1

/// `meridian user …`: generic MQTT accounts (username, scrypt-hashed password, topic rules).
public struct UserCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage MQTT users (non-device clients) and their topic rules.",
        discussion: """
            A rule is ACTIONS:PATTERN or deny:ACTIONS:PATTERN, with ACTIONS pub, sub or pubsub, and PATTERN a topic
            filter in which %c is the client id and %u the username, e.g. pubsub:clients/%c/# or sub:$SYS/#.
            The first matching rule decides; no match denies.
            """,
        subcommands: [SetUser.self, List.self, Show.self, Delete.self])

    public init() {}

    struct SetUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Create or update a user.")
        @Argument(help: "The username.") var username: String
        @Option(help: "The password (or use --password-stdin).") var password: String?
        @Flag(help: "Read the password from standard input.") var passwordStdin = false
        @Option(help: "A rule (repeatable); see `meridian user --help`.") var rule: [String] = []
        @OptionGroup var options: ClientOptions
        func run() async throws {
            var secret = password
            if passwordStdin { secret = readLine(strippingNewline: true) }
            var body: [String: Any] = ["rules": try rule.map(UserCommand.parseRule)]
            if let secret { body["password"] = secret }
            let result = try await options.client().request(.PUT, "/users/\(Path.escape(username))", body: body, headers: [("If-Match", "\"*\"")]).json
            UserCommand.print(result, options)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let users = try await options.client().request(.GET, "/users").json as? [[String: Any]] ?? []
            if options.json { return Output.json(users) }
            Output.table(["USER", "RULES"], users.map { [Output.text($0["username"]), String(($0["rules"] as? [Any])?.count ?? 0)] })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a user and its rules (never the password).")
        @Argument(help: "The username.") var username: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            UserCommand.print(try await options.client().request(.GET, "/users/\(Path.escape(username))").json, options)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a user; its connections are closed.")
        @Argument(help: "The username.") var username: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            try await options.client().request(.DELETE, "/users/\(Path.escape(username))", headers: [("If-Match", "\"*\"")])
            if options.json { Output.json(["deleted": username]) } else { Swift.print("deleted \(username)") }
        }
    }

    /// `pubsub:clients/%c/#`, `deny:pub:$SYS/#` → the REST rule object.
    static func parseRule(_ text: String) throws -> [String: Any] {
        var parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        var allow = true
        if parts.first == "deny" || parts.first == "allow" {
            allow = parts.removeFirst() == "allow"
            parts = parts.joined(separator: ":").split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        } else if parts.count > 2 {
            parts = [parts[0], parts[1...].joined(separator: ":")]
        }
        guard parts.count == 2, !parts[1].isEmpty else { throw ValidationError("rule \(text): expected ACTIONS:PATTERN") }
        let actions: [String]
        switch parts[0] {
        case "pub": actions = ["publish"]
        case "sub": actions = ["subscribe"]
        case "pubsub": actions = ["publish", "subscribe"]
        default: throw ValidationError("rule \(text): actions must be pub, sub or pubsub")
        }
        return ["pattern": parts[1], "actions": actions, "allow": allow]
    }

    static func print(_ value: Any?, _ options: ClientOptions) {
        guard let u = value as? [String: Any] else { return }
        if options.json { return Output.json(u) }
        Output.fields([("user", Output.text(u["username"])), ("etag", Output.text(u["etag"]))])
        for r in u["rules"] as? [[String: Any]] ?? [] {
            let actions = (r["actions"] as? [String] ?? []).joined(separator: "+")
            Swift.print("  \((r["allow"] as? Bool ?? true) ? "allow" : "deny ") \(actions) \(Output.text(r["pattern"]))")
        }
    }
}
