import ArgumentParser
import Foundation
import NIOHTTP1

/// `meridian route …`: message routing (like `az iot hub route`, `routing-endpoint`, `message-enrichment`).
public struct RouteCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Manage message routes, routing endpoints, enrichments and the fallback route.",
        discussion: """
            Every accepted message is stored in the built-in endpoint 'events' (the event log). Routes send what matches
            their condition (IoT Hub routing query syntax: $body.x, application properties by name, $connectionDeviceId,
            $twin.tags.x …) also to a custom endpoint: fileStorage (JSON lines per partition and minute), webhook (HTTP POST
            with retries) or queue. Device messages no route matched go to the fallback route's endpoint.
            """,
        subcommands: [
            List.self, Create.self, Delete.self, Test.self, Export.self, Import.self, EndpointCommand.self, EnrichmentCommand.self,
            Fallback.self, QueueRead.self,
        ])

    public init() {}

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the routes (in order) and the fallback route.")
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let table = try await options.client().request(.GET, "/routing").json as? [String: Any] ?? [:]
            if options.json { return Output.json(table) }
            let routes = table["routes"] as? [[String: Any]] ?? []
            Output.table(
                ["ROUTE", "SOURCE", "ENDPOINT", "ENABLED", "CONDITION"],
                routes.map { r in
                    [Output.text(r["name"]), Output.text(r["source"]), (r["endpointNames"] as? [String] ?? []).joined(separator: ","),
                     Output.text(r["isEnabled"]), Output.text(r["condition"])]
                })
            if let fallback = table["fallbackRoute"] as? [String: Any] {
                let enabled = fallback["isEnabled"] as? Bool ?? true
                print("fallback: \(enabled ? "to \((fallback["endpointNames"] as? [String] ?? []).joined(separator: ","))" : "disabled")")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Create a route, or replace the route of that name (keeping its place).")
        @Argument(help: "The route's name (1-64 of A-Z a-z 0-9 - _ .).") var name: String
        @Option(help: "The endpoint: 'events' or a custom endpoint's name.") var endpoint: String
        @Option(help: "DeviceMessages, TwinChangeEvents, DeviceLifecycleEvents or DeviceConnectionStateEvents.") var source = "DeviceMessages"
        @Option(help: "The condition (routing query syntax), e.g. \"$body.temperature > 80\".") var condition = "true"
        @Flag(help: "Create it disabled.") var disabled = false
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let body: [String: Any] = ["source": source, "condition": condition, "endpointNames": [endpoint], "isEnabled": !disabled]
            let route = try await options.client().request(.PUT, "/routing/routes/\(Path.escape(name))", body: body).json
            if options.json { return Output.json(route ?? [:]) }
            print("route \(name): \(source) where \(condition) → \(endpoint)\(disabled ? " (disabled)" : "")")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a route.")
        @Argument(help: "The route's name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            try await options.client().request(.DELETE, "/routing/routes/\(Path.escape(name))")
            if options.json { Output.json(["deleted": name]) } else { print("deleted route \(name)") }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show which routes and endpoints a message would take.")
        @Option(help: "The message body (JSON text, or any text).") var body = "{}"
        @Option(help: "An application property k=v (repeatable).") var property: [String] = []
        @Option(help: "The message's content type.") var contentType = "application/json"
        @Option(help: "The message's content encoding.") var contentEncoding = "utf-8"
        @Option(help: "The sending device (for $connectionDeviceId and $twin).") var deviceId: String?
        @OptionGroup var options: ClientOptions
        func run() async throws {
            var properties: [String: String] = [:]
            for item in property {
                guard let equals = item.firstIndex(of: "=") else { throw ValidationError("--property \(item): expected k=v") }
                properties[String(item[..<equals])] = String(item[item.index(after: equals)...])
            }
            let parsedBody: Any = (try? JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed])) ?? body
            var request: [String: Any] = [
                "message": [
                    "body": parsedBody, "appProperties": properties,
                    "systemProperties": ["contentType": contentType, "contentEncoding": contentEncoding],
                ] as [String: Any]
            ]
            if let deviceId { request["deviceId"] = deviceId }
            let result = try await options.client().request(.POST, "/routing/test", body: request).json as? [String: Any] ?? [:]
            if options.json { return Output.json(result) }
            let routes = result["matchedRoutes"] as? [String] ?? []
            let endpoints = result["endpoints"] as? [String] ?? []
            print("routes:    \(routes.isEmpty ? "none" : routes.joined(separator: ", "))\((result["fallback"] as? Bool ?? false) ? " (fallback)" : "")")
            print("endpoints: \(endpoints.isEmpty ? "none" : endpoints.joined(separator: ", "))")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the whole routing table as JSON (to edit and import).")
        @OptionGroup var options: ClientOptions
        func run() async throws {
            Output.json(try await options.client().request(.GET, "/routing").json ?? [:])
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the whole routing table with a JSON file (as exported); all of it applies or none.")
        @Argument(help: "The JSON file ('-' for standard input).") var file: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
            guard let table = try? JSONSerialization.jsonObject(with: data) else { throw ValidationError("\(file) is not JSON") }
            let stored = try await options.client().request(.PUT, "/routing", body: table).json as? [String: Any] ?? [:]
            if options.json { return Output.json(stored) }
            print("routing table imported: \((stored["endpoints"] as? [Any])?.count ?? 0) endpoints, \((stored["routes"] as? [Any])?.count ?? 0) routes")
        }
    }

    struct Fallback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send device messages no route matched to an endpoint, or disable that.")
        @Option(help: "The endpoint ('events' by default).") var endpoint: String?
        @Flag(help: "Disable the fallback route.") var disable = false
        @OptionGroup var options: ClientOptions
        func run() async throws {
            try await RouteCommand.modifyTable(options) { table in
                var fallback = table["fallbackRoute"] as? [String: Any] ?? [:]
                fallback["isEnabled"] = !disable
                if let endpoint { fallback["endpointNames"] = [endpoint] }
                table["fallbackRoute"] = fallback
            }
            if !options.json { print(disable ? "fallback route disabled" : "fallback route to \(endpoint ?? "its endpoint")") }
        }
    }

    struct QueueRead: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "read", abstract: "Read a queue endpoint's messages (one JSON record per line with --json).")
        @Argument(help: "The queue endpoint's name.") var name: String
        @Option(help: "earliest, latest, an offset or an ISO 8601 time.") var from = "earliest"
        @Option(help: "At most this many (1-1000).") var limit = 100
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let batch = try await options.client().request(
                .GET, "/routing/queues/\(Path.escape(name))/events?from=\(Path.escape(from))&limit=\(limit)").json as? [String: Any] ?? [:]
            for event in batch["events"] as? [[String: Any]] ?? [] {
                if options.json {
                    let data = (try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])) ?? Data()
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    let body = (try? JSONSerialization.data(withJSONObject: event["body"] ?? NSNull(), options: [.sortedKeys, .fragmentsAllowed]))
                        .map { String(decoding: $0, as: UTF8.self) } ?? "-"
                    print("\(Output.text(event["offset"]))\t\(Output.text(event["enqueuedTime"]))\t\(Output.text(event["deviceId"]))\t\(body)")
                }
            }
        }
    }

    /// GET the table, change it, PUT it back.
    static func modifyTable(_ options: ClientOptions, _ change: (inout [String: Any]) throws -> Void) async throws {
        let client = try options.client()
        var table = try await client.request(.GET, "/routing").json as? [String: Any] ?? [:]
        try change(&table)
        let stored = try await client.request(.PUT, "/routing", body: table).json
        if options.json { Output.json(stored ?? [:]) }
    }
}

extension RouteCommand {
    struct EndpointCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "endpoint", abstract: "Manage custom routing endpoints and see their health.",
            subcommands: [List.self, Create.self, Delete.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Each endpoint's health, deliveries, lag and last error.")
            @OptionGroup var options: ClientOptions
            func run() async throws {
                let endpoints = try await options.client().request(.GET, "/routing/endpoints").json as? [[String: Any]] ?? []
                if options.json { return Output.json(endpoints) }
                Output.table(
                    ["ENDPOINT", "TYPE", "HEALTH", "DELIVERED", "LAG", "FAILURES", "LOST", "LAST ERROR"],
                    endpoints.map { e in
                        [Output.text(e["name"]), Output.text(e["type"]), Output.text(e["health"]), Output.text(e["delivered"]), Output.text(e["lag"]),
                         Output.text(e["failures"]), Output.text(e["lost"]), Output.text(e["lastError"])]
                    })
            }
        }

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create or change an endpoint (its position is kept when only settings change).")
            @Argument(help: "The endpoint's name.") var name: String
            @Option(help: "fileStorage, webhook or queue.") var type: String
            @Option(help: "fileStorage: the directory (absolute, or relative to <data-dir>/routing/storage).") var directory: String?
            @Option(help: "webhook: the http:// or https:// URL.") var url: String?
            @Option(help: "webhook: a header 'Name: value' (repeatable), e.g. an Authorization header.") var header: [String] = []
            @Option(help: "webhook: records per POST (1-1000).") var maxBatchSize: Int?
            @Option(help: "webhook: seconds per request (0.1-120).") var timeout: Double?
            @OptionGroup var options: ClientOptions
            func run() async throws {
                var body: [String: Any] = ["type": type]
                if let directory { body["directory"] = directory }
                if let url { body["url"] = url }
                if !header.isEmpty {
                    var headers: [String: String] = [:]
                    for item in header {
                        guard let colon = item.firstIndex(of: ":") else { throw ValidationError("--header \(item): expected 'Name: value'") }
                        headers[String(item[..<colon]).trimmingCharacters(in: .whitespaces)] =
                            String(item[item.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                    }
                    body["headers"] = headers
                }
                if let maxBatchSize { body["maxBatchSize"] = maxBatchSize }
                if let timeout { body["timeoutSeconds"] = timeout }
                let endpoint = try await options.client().request(.PUT, "/routing/endpoints/\(Path.escape(name))", body: body).json
                if options.json { return Output.json(endpoint ?? [:]) }
                print("endpoint \(name) (\(type))")
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Delete an endpoint no route, enrichment or fallback uses.")
            @Argument(help: "The endpoint's name.") var name: String
            @OptionGroup var options: ClientOptions
            func run() async throws {
                try await options.client().request(.DELETE, "/routing/endpoints/\(Path.escape(name))")
                if options.json { Output.json(["deleted": name]) } else { print("deleted endpoint \(name)") }
            }
        }
    }

    struct EnrichmentCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "enrichment", abstract: "Stamp properties on messages sent to endpoints (static values, $twin paths, $iothubname).",
            subcommands: [Set.self, Delete.self])

        struct Set: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "set", abstract: "Add or change an enrichment.")
            @Argument(help: "The property name.") var key: String
            @Argument(help: "A value, or $twin.tags.…, $twin.properties.desired|reported.…, $iothubname.") var value: String
            @Option(help: "An endpoint it applies to (repeatable).") var endpoint: [String]
            @OptionGroup var options: ClientOptions
            func run() async throws {
                try await RouteCommand.modifyTable(options) { table in
                    var enrichments = (table["enrichments"] as? [[String: Any]] ?? []).filter { $0["key"] as? String != key }
                    enrichments.append(["key": key, "value": value, "endpointNames": endpoint])
                    table["enrichments"] = enrichments
                }
                if !options.json { print("enrichment \(key) = \(value) on \(endpoint.joined(separator: ", "))") }
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Delete an enrichment.")
            @Argument(help: "The property name.") var key: String
            @OptionGroup var options: ClientOptions
            func run() async throws {
                try await RouteCommand.modifyTable(options) { table in
                    let enrichments = table["enrichments"] as? [[String: Any]] ?? []
                    guard enrichments.contains(where: { $0["key"] as? String == key }) else { throw ValidationError("no enrichment \(key)") }
                    table["enrichments"] = enrichments.filter { $0["key"] as? String != key }
                }
                if !options.json { print("deleted enrichment \(key)") }
            }
        }
    }
}
