import ArgumentParser
import Foundation
import HubAuth
import HubCore
import HubServer
import NIOHTTP1

/// `meridian policy …`: the hub's shared access policies.
public struct PolicyCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Shared access policies: the service credentials (iothubowner, service, registryRead …).",
        subcommands: [List.self, Show.self, ConnectionStringCommand.self, RegenerateKey.self])

    public init() {}

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List policies and their rights.")
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let policies = try await options.client().request(.GET, "/policies").json as? [[String: Any]] ?? []
            if options.json { return Output.json(policies) }
            Output.table(["POLICY", "RIGHTS"], policies.map { [Output.text($0["keyName"]), Output.text($0["rights"])] })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a policy with its keys.")
        @Argument(help: "The policy name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let policy = try await options.client().request(.GET, "/policies/\(Path.escape(name))").json as? [String: Any] ?? [:]
            if options.json { return Output.json(policy) }
            Output.fields([
                ("policy", Output.text(policy["keyName"])), ("rights", Output.text(policy["rights"])),
                ("primary key", Output.text(policy["primaryKey"])), ("secondary key", Output.text(policy["secondaryKey"])),
            ])
        }
    }

    struct ConnectionStringCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "connection-string",
            abstract: "Print a policy's connection string, from a running hub or straight from its data directory.")
        @Argument(help: "The policy name (e.g. iothubowner).") var name: String
        @Option(help: ArgumentHelp("Read the data directory of a hub (running or not) instead of calling its API.", valueName: "dir"))
        var dataDir: String?
        @Option(help: ArgumentHelp("HostName to put in it (default: the hub's host name and HTTPS port, as it last ran).", valueName: "host[:port]"))
        var hostName: String?
        @Option(help: ArgumentHelp("With --data-dir: the master key if the hub was given one (default: $MERIDIAN_MASTER_KEY or <data-dir>/master.key).", valueName: "base64"))
        var masterKey: String?
        @Option(help: "primary or secondary.") var key = "primary"
        @OptionGroup var options: ClientOptions

        func validate() throws {
            guard key == "primary" || key == "secondary" else { throw ValidationError("--key must be primary or secondary") }
        }

        func run() async throws {
            let text: String
            if let dataDir {
                text = try await OfflineHub.connectionString(
                    policy: name, dataDirectory: dataDir, hostName: hostName,
                    masterKey: masterKey ?? ProcessInfo.processInfo.environment["MERIDIAN_MASTER_KEY"], secondary: key == "secondary")
            } else {
                let client = try options.client()
                let policy = try await client.request(.GET, "/policies/\(Path.escape(name))").json as? [String: Any] ?? [:]
                guard let keyText = policy["\(key)Key"] as? String, let sak = try? SharedAccessKey(base64: keyText) else {
                    throw ValidationError("the hub returned no \(key) key for \(name)")
                }
                let host = try hostName ?? options.resolvedConnectionString().hostName
                text = ConnectionString(hostName: host, sharedAccessKeyName: name, sharedAccessKey: sak).description
            }
            if options.json { Output.json(["connectionString": text]) } else { print(text) }
        }
    }

    struct RegenerateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "regenerate-key", abstract: "Replace a policy key (or swap them); clients using the old one are disconnected.")
        @Argument(help: "The policy name.") var name: String
        @Option(help: "primary, secondary or swap.") var key = "secondary"
        @OptionGroup var options: ClientOptions
        func run() async throws {
            guard ["primary", "secondary", "swap"].contains(key) else { throw ValidationError("--key must be primary, secondary or swap") }
            let policy = try await options.client().request(.POST, "/policies/\(Path.escape(name))/regenerateKey", body: ["keyType": key]).json
            if options.json { return Output.json(policy as Any) }
            Swift.print("regenerated the \(key) key of \(name)")
        }
    }
}
