import ArgumentParser
import Foundation
import HubServer

/// `meridian twin show|update`: device and module twins.
public struct TwinCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "twin",
        abstract: "Read and update device twins (tags, desired and reported properties).",
        subcommands: [Show.self, Update.self])

    public init() {}

    static func path(_ deviceID: String, _ moduleID: String?) -> String {
        var path = "/twins/\(Path.escape(deviceID))"
        if let moduleID { path += "/modules/\(Path.escape(moduleID))" }
        return path
    }

    static func printTwin(_ twin: [String: Any]) {
        let properties = twin["properties"] as? [String: Any] ?? [:]
        Output.fields([
            ("device", Output.text(twin["deviceId"])), ("module", Output.text(twin["moduleId"])),
            ("etag", Output.text(twin["etag"])), ("version", Output.text(twin["version"])),
            ("status", Output.text(twin["status"])), ("connection", Output.text(twin["connectionState"])),
            ("tags", JSONText.compact(twin["tags"])),
            ("desired", JSONText.compact(Self.withoutMetadata(properties["desired"]))),
            ("reported", JSONText.compact(Self.withoutMetadata(properties["reported"]))),
        ])
    }

    static func withoutMetadata(_ section: Any?) -> Any? {
        guard var object = section as? [String: Any] else { return section }
        object["$metadata"] = nil
        return object
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a twin.")
        @Argument(help: "The device id.") var deviceID: String
        @Option(name: .customLong("module"), help: "A module of the device.") var moduleID: String?
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let twin = try await options.client().request(.GET, TwinCommand.path(deviceID, moduleID)).json as? [String: Any] ?? [:]
            if options.json { return Output.json(twin) }
            TwinCommand.printTwin(twin)
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Patch a twin's tags and desired properties (JSON merge patch: null deletes a key).")
        @Argument(help: "The device id.") var deviceID: String
        @Option(name: .customLong("module"), help: "A module of the device.") var moduleID: String?
        @Option(help: ArgumentHelp("JSON object merged into the tags.", valueName: "json")) var tags: String?
        @Option(help: ArgumentHelp("JSON object merged into the desired properties.", valueName: "json")) var desired: String?
        @Option(help: ArgumentHelp("Only update if the twin still has this etag.", valueName: "etag")) var etag: String?
        @OptionGroup var options: ClientOptions

        func validate() throws {
            guard tags != nil || desired != nil else { throw ValidationError("give --tags and/or --desired") }
            for (flag, text) in [("--tags", tags), ("--desired", desired)] {
                if let text, (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] == nil {
                    throw ValidationError("\(flag) must be a JSON object")
                }
            }
        }

        func run() async throws {
            var patch: [String: Any] = [:]
            if let tags { patch["tags"] = try JSONSerialization.jsonObject(with: Data(tags.utf8)) }
            if let desired { patch["properties"] = ["desired": try JSONSerialization.jsonObject(with: Data(desired.utf8))] }
            let twin = try await options.client().request(
                .PATCH, TwinCommand.path(deviceID, moduleID), body: patch, headers: [("If-Match", "\"\(etag ?? "*")\"")]
            ).json as? [String: Any] ?? [:]
            if options.json { return Output.json(twin) }
            TwinCommand.printTwin(twin)
        }
    }
}

/// JSON values as one line of text.
enum JSONText {
    static func compact(_ value: Any?) -> String {
        guard let value, !(value is NSNull) else { return "null" }
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) else {
            return "\(value)"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
