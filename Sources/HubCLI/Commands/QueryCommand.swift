import ArgumentParser
import Foundation
import HubServer

/// `meridian query "SELECT …"`: the IoT Hub query language over twins.
public struct QueryCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Query device and module twins with the IoT Hub query language.",
        discussion: """
            Examples:
              meridian query "SELECT * FROM devices WHERE tags.fleet = 'north' AND properties.reported.battery < 0.2"
              meridian query "SELECT status, COUNT() AS n FROM devices GROUP BY status"
            Pages are fetched until the last one (or --max-items).
            """)

    @Argument(help: "The query.") var query: String
    @Option(help: ArgumentHelp("Items per page, 1-1000.", valueName: "n")) var pageSize = 100
    @Option(help: ArgumentHelp("Stop after this many items.", valueName: "n")) var maxItems: Int?
    @OptionGroup var options: ClientOptions

    public init() {}

    public func validate() throws {
        guard (1...1000).contains(pageSize) else { throw ValidationError("--page-size must be between 1 and 1000") }
        if let maxItems, maxItems < 1 { throw ValidationError("--max-items must be at least 1") }
    }

    public func run() async throws {
        let client = try options.client()
        var items: [Any] = []
        var continuation: String?
        var itemType = "twin"
        repeat {
            var headers = [("x-ms-max-item-count", String(pageSize))]
            if let continuation { headers.append(("x-ms-continuation", continuation)) }
            let page = try await client.request(.POST, "/devices/query", body: ["query": query], headers: headers)
            items += page.json as? [Any] ?? []
            itemType = page.headers.first(name: "x-ms-item-type") ?? itemType
            continuation = page.headers.first(name: "x-ms-continuation").flatMap { $0.isEmpty ? nil : $0 }
            if let maxItems, items.count >= maxItems {
                items = Array(items.prefix(maxItems))
                break
            }
        } while continuation != nil
        if options.json { return Output.json(items) }
        if itemType == "twin" {
            Output.table(["DEVICE", "MODULE", "STATUS", "CONNECTION", "TAGS"], items.map { item in
                let twin = item as? [String: Any] ?? [:]
                return [
                    Output.text(twin["deviceId"]), Output.text(twin["moduleId"]), Output.text(twin["status"]),
                    Output.text(twin["connectionState"]), JSONText.compact(twin["tags"]),
                ]
            })
        } else {
            for item in items { print(JSONText.compact(item)) }
        }
    }
}
