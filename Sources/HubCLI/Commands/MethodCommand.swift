import ArgumentParser
import Foundation
import HubServer

/// `meridian method invoke …`: direct methods on connected devices.
public struct MethodCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "method",
        abstract: "Call direct methods on connected devices and modules.",
        subcommands: [Invoke.self])

    public init() {}

    struct Invoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Invoke a direct method and print the device's status and payload.",
            discussion: "Exits 0 when the device answered (whatever status it chose), 1 when it is offline or silent.")
        @Argument(help: "The device id.") var deviceID: String
        @Argument(help: "The method name.") var methodName: String
        @Option(name: .customLong("module"), help: "A module of the device, to call its method instead.") var moduleID: String?
        @Option(help: ArgumentHelp("JSON payload for the device (default: null).", valueName: "json")) var payload: String?
        @Option(help: ArgumentHelp("Seconds to wait for the answer, 5-300.", valueName: "seconds")) var timeout = 30
        @Option(help: ArgumentHelp("Seconds to wait for the device to come online, 0-300.", valueName: "seconds"))
        var connectTimeout = 0
        @OptionGroup var options: ClientOptions

        func validate() throws {
            guard (5...300).contains(timeout) else { throw ValidationError("--timeout must be between 5 and 300") }
            guard (0...300).contains(connectTimeout) else { throw ValidationError("--connect-timeout must be between 0 and 300") }
            if let payload {
                guard (try? JSONSerialization.jsonObject(with: Data(payload.utf8), options: [.fragmentsAllowed])) != nil else {
                    throw ValidationError("--payload must be JSON (e.g. '{\"delay\":5}', '\"text\"' or 42)")
                }
            }
        }

        func run() async throws {
            let parsedPayload: Any = try payload.map { try JSONSerialization.jsonObject(with: Data($0.utf8), options: [.fragmentsAllowed]) }
                ?? NSNull()
            let body: [String: Any] = [
                "methodName": methodName, "payload": parsedPayload,
                "responseTimeoutInSeconds": timeout, "connectTimeoutInSeconds": connectTimeout,
            ]
            var path = "/twins/\(Path.escape(deviceID))"
            if let moduleID { path += "/modules/\(Path.escape(moduleID))" }
            let answer = try await options.client().request(.POST, path + "/methods", body: body).json as? [String: Any] ?? [:]
            if options.json { return Output.json(answer) }
            Output.fields([("status", Output.text(answer["status"])), ("payload", JSONText.compact(answer["payload"]))])
        }
    }
}
