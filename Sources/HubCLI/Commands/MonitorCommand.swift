import ArgumentParser
import Foundation
import NIOCore
import Synchronization

/// `meridian monitor`: the hub's events as they arrive, like `az iot hub monitor-events`.
public struct MonitorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Print device events from the hub's built-in events endpoint as they arrive.",
        discussion: """
            Reads GET /events/{consumer-group} as Server-Sent Events. Examples:
              meridian monitor                                  new events of every device, pretty-printed
              meridian monitor --device-id drone-01 --json      one JSON record per line (as the API sends it)
              meridian monitor --from earliest --timeout 5      everything retained, exit after 5 s without events
              meridian monitor --property alert=true --consumer-group dashboard
            """)

    @Option(name: .customLong("device-id"), help: ArgumentHelp("Only events of this device.", valueName: "id"))
    var deviceID: String?
    @Option(name: .customLong("property"), help: ArgumentHelp("Only events with this application property (repeatable; all must match).", valueName: "key=value"))
    var properties: [String] = []
    @Option(name: .customLong("consumer-group"), help: ArgumentHelp("The consumer group to read as.", valueName: "name"))
    var consumerGroup = "$Default"
    @Option(help: ArgumentHelp("Where to start: latest, earliest, checkpoint, or an ISO-8601 time.", valueName: "position"))
    var from = "latest"
    @Option(help: ArgumentHelp("Exit after this many seconds without a (matching) event.", valueName: "seconds"))
    var timeout: Double?
    @OptionGroup var options: ClientOptions

    public init() {}

    public func validate() throws {
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
        for property in properties where !property.contains("=") || property.hasPrefix("=") {
            throw ValidationError("--property takes key=value, got \(property)")
        }
        guard !consumerGroup.isEmpty, !from.isEmpty else { throw ValidationError("--consumer-group and --from must not be empty") }
    }

    var filters: [(String, String)] {
        properties.map { p in
            let parts = p.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
    }

    /// Whether an event record passes `--device-id` and `--property`.
    static func matches(_ event: [String: Any], deviceID: String?, filters: [(String, String)]) -> Bool {
        if let deviceID, event["deviceId"] as? String != deviceID { return false }
        let application = event["properties"] as? [String: Any] ?? [:]
        return filters.allSatisfy { key, value in application[key] as? String == value }
    }

    public func run() async throws {
        let client = try options.client()
        let group = consumerGroup.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? consumerGroup
        let start = from.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&+=#"))) ?? from
        let body = try await client.eventStream("/events/\(group)?from=\(start)")
        let lastEvent = LastEvent()
        let json = options.json
        let deviceID = self.deviceID
        let filters = self.filters
        if !json {
            FileHandle.standardError.write(Data("Monitoring events of consumer group \(consumerGroup) from \(from). Ctrl-C to stop.\n".utf8))
        }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                var line: [UInt8] = []
                for try await chunk in body {
                    for byte in chunk.readableBytesView {
                        guard byte == 0x0A else {
                            line.append(byte)
                            continue
                        }
                        defer { line.removeAll(keepingCapacity: true) }
                        guard line.starts(with: Array("data: ".utf8)) else { continue }
                        let data = Data(line.dropFirst(6))
                        guard let event = try? JSONSerialization.jsonObject(with: data) as? [String: Any], event["deviceId"] != nil,
                            Self.matches(event, deviceID: deviceID, filters: filters)
                        else { continue }
                        lastEvent.touch()
                        // Written at once (not through print's buffer), so a pipe sees each event as it comes.
                        FileHandle.standardOutput.write(json ? data + Data("\n".utf8) : Data((Self.pretty(event) + "\n").utf8))
                    }
                }
            }
            if let timeout {
                tasks.addTask {
                    while true {
                        try await Task.sleep(for: .milliseconds(100))
                        if ContinuousClock.now - lastEvent.time >= .seconds(timeout) { return }
                    }
                }
            }
            try await tasks.next()
            tasks.cancelAll()
        }
    }

    /// The az CLI's shape: origin, module, partition/offset/time, properties, payload; indented.
    static func pretty(_ event: [String: Any]) -> String {
        var shown: [String: Any] = ["origin": event["deviceId"] ?? "", "enqueuedTime": event["enqueuedTime"] ?? ""]
        if let module = event["moduleId"] { shown["module"] = module }
        shown["partition"] = event["partition"]
        shown["offset"] = event["offset"]
        if let properties = event["properties"] as? [String: Any], !properties.isEmpty { shown["properties"] = properties }
        if event["bodyEncoding"] as? String == "base64", let text = event["body"] as? String,
            let bytes = Data(base64Encoded: text), let utf8 = String(data: bytes, encoding: .utf8)
        {
            shown["payload"] = utf8
        } else {
            shown["payload"] = event["body"]
        }
        let options: JSONSerialization.WritingOptions = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]
        let data = (try? JSONSerialization.data(withJSONObject: ["event": shown], options: options)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// When the last matching event arrived (for `--timeout`).
final class LastEvent: Sendable {
    private let value = Mutex(ContinuousClock.now)
    var time: ContinuousClock.Instant { value.withLock { $0 } }
    func touch() { value.withLock { $0 = .now } }
}
