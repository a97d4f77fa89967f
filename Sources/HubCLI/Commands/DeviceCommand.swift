import ArgumentParser
import Foundation
import HubAuth
import HubCore
import NIOHTTP1

/// `meridian device …`: device identities over the hub's registry REST API.
public struct DeviceCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "Create, inspect and manage device identities.",
        subcommands: [
            Create.self, Show.self, List.self, Update.self, Delete.self, Enable.self, Disable.self,
            RegenerateKey.self, ConnectionStringCommand.self, SASTokenCommand.self,
        ])

    public init() {}

    /// Authentication options shared by create and update.
    struct AuthOptions: ParsableArguments {
        @Option(help: ArgumentHelp("sas (default), selfSigned, certificateAuthority or none.", valueName: "type"))
        var auth: String?
        @Option(help: ArgumentHelp("Base64 primary key (sas; generated when omitted).", valueName: "base64"))
        var primaryKey: String?
        @Option(help: ArgumentHelp("Base64 secondary key (sas; generated when omitted).", valueName: "base64"))
        var secondaryKey: String?
        @Option(help: ArgumentHelp("Primary X.509 thumbprint, SHA-1 or SHA-256 hex (selfSigned).", valueName: "hex"))
        var primaryThumbprint: String?
        @Option(help: ArgumentHelp("Secondary X.509 thumbprint (selfSigned).", valueName: "hex"))
        var secondaryThumbprint: String?

        /// The `authentication` JSON, or nil when no option was given.
        func json() throws -> [String: Any]? {
            let type = auth ?? (primaryThumbprint != nil || secondaryThumbprint != nil ? "selfSigned" : (primaryKey != nil || secondaryKey != nil ? "sas" : nil))
            guard let type else { return nil }
            switch type {
            case "sas":
                let keys: [String: Any] = ["primaryKey": primaryKey as Any? ?? NSNull(), "secondaryKey": secondaryKey as Any? ?? NSNull()]
                return ["type": "sas", "symmetricKey": keys]
            case "selfSigned":
                guard primaryThumbprint != nil else { throw ValidationError("selfSigned needs --primary-thumbprint") }
                let prints: [String: Any] = ["primaryThumbprint": primaryThumbprint!, "secondaryThumbprint": secondaryThumbprint as Any? ?? NSNull()]
                return ["type": "selfSigned", "x509Thumbprint": prints]
            case "certificateAuthority", "none":
                return ["type": type]
            default:
                throw ValidationError("--auth must be sas, selfSigned, certificateAuthority or none")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a device (SAS with generated keys unless told otherwise).")
        @Argument(help: "The device id.") var deviceID: String
        @OptionGroup var authOptions: AuthOptions
        @Flag(help: "Create it disabled.") var disabled = false
        @Flag(help: "Mark it as an IoT Edge device.") var edge = false
        @OptionGroup var options: ClientOptions

        func run() async throws {
            var body: [String: Any] = ["deviceId": deviceID, "status": disabled ? "disabled" : "enabled", "capabilities": ["iotEdge": edge]]
            if let auth = try authOptions.json() { body["authentication"] = auth }
            let client = try options.client()
            let device = try await client.request(.PUT, "/devices/\(Path.escape(deviceID))", body: body).json
            DeviceCommand.print(device, options)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a device, keys included.")
        @Argument(help: "The device id.") var deviceID: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let device = try await options.client().request(.GET, "/devices/\(Path.escape(deviceID))").json
            DeviceCommand.print(device, options)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List devices.")
        @Option(help: "At most this many (1-1000).") var top = 1000
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let devices = try await options.client().request(.GET, "/devices?top=\(top)").json as? [[String: Any]] ?? []
            if options.json { return Output.json(devices) }
            Output.table(
                ["DEVICE", "STATUS", "AUTH", "CONNECTION", "LAST ACTIVITY"],
                devices.map { d in
                    [Output.text(d["deviceId"]), Output.text(d["status"]), Output.text(d[path: "authentication.type"]),
                     Output.text(d["connectionState"]), Output.text(d["lastActivityTime"])]
                })
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Update a device's status or credentials.")
        @Argument(help: "The device id.") var deviceID: String
        @Option(help: "enabled or disabled.") var status: String?
        @Option(help: "Why the status was set.") var reason: String?
        @OptionGroup var authOptions: AuthOptions
        @Option(help: "Only if the device's etag is still this (default: any).") var etag: String?
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let client = try options.client()
            let device = try await DeviceCommand.update(client, deviceID, etag: etag) { body in
                if let status {
                    guard status == "enabled" || status == "disabled" else { throw ValidationError("--status must be enabled or disabled") }
                    body["status"] = status
                }
                if let reason { body["statusReason"] = reason }
                if let auth = try authOptions.json() { body["authentication"] = auth }
            }
            DeviceCommand.print(device, options)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a device and its modules.")
        @Argument(help: "The device id.") var deviceID: String
        @Option(help: "Only if the device's etag is still this (default: any).") var etag: String?
        @OptionGroup var options: ClientOptions
        func run() async throws {
            try await options.client().request(.DELETE, "/devices/\(Path.escape(deviceID))", headers: [("If-Match", "\"\(etag ?? "*")\"")])
            if options.json { Output.json(["deleted": deviceID]) } else { Swift.print("deleted \(deviceID)") }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a device.")
        @Argument(help: "The device id.") var deviceID: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let device = try await DeviceCommand.update(try options.client(), deviceID, etag: nil) { $0["status"] = "enabled" }
            DeviceCommand.print(device, options)
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a device: it is refused and its connections are closed.")
        @Argument(help: "The device id.") var deviceID: String
        @Option(help: "Why.") var reason: String?
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let device = try await DeviceCommand.update(try options.client(), deviceID, etag: nil) { body in
                body["status"] = "disabled"
                if let reason { body["statusReason"] = reason }
            }
            DeviceCommand.print(device, options)
        }
    }

    struct RegenerateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "regenerate-key", abstract: "Replace a SAS key (or swap them).")
        @Argument(help: "The device id.") var deviceID: String
        @Option(help: "primary, secondary or swap.") var key = "primary"
        @OptionGroup var options: ClientOptions
        func run() async throws {
            guard ["primary", "secondary", "swap"].contains(key) else { throw ValidationError("--key must be primary, secondary or swap") }
            let device = try await options.client().request(.POST, "/devices/\(Path.escape(deviceID))/regenerateKey", body: ["keyType": key]).json
            DeviceCommand.print(device, options)
        }
    }

    struct ConnectionStringCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "connection-string", abstract: "Print a device's connection string.")
        @Argument(help: "The device id.") var deviceID: String
        @Option(help: "primary or secondary.") var key = "primary"
        @Option(help: "Host name devices use (default: the connection string's, without port).") var hostName: String?
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let device = try await options.client().request(.GET, "/devices/\(Path.escape(deviceID))").json as? [String: Any] ?? [:]
            guard let keyText = device[path: "authentication.symmetricKey.\(key)Key"] as? String, let sak = try? SharedAccessKey(base64: keyText) else {
                throw ValidationError("\(deviceID) has no SAS \(key) key")
            }
            let host = try hostName ?? DeviceCommand.deviceHost(options)
            let cs = ConnectionString(hostName: host, deviceID: deviceID, sharedAccessKey: sak)
            if options.json { Output.json(["connectionString": cs.description]) } else { Swift.print(cs.description) }
        }
    }

    struct SASTokenCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sas-token", abstract: "Print a SAS token for a device (MQTT password, HTTPS Authorization).")
        @Argument(help: "The device id.") var deviceID: String
        @Option(help: "Seconds the token is valid.") var duration: Int64 = 3600
        @Option(help: "primary or secondary.") var key = "primary"
        @Option(help: "Host name in the token's resource (default: the connection string's, without port).") var hostName: String?
        @OptionGroup var options: ClientOptions
        func run() async throws {
            guard duration > 0 else { throw ValidationError("--duration must be positive") }
            let device = try await options.client().request(.GET, "/devices/\(Path.escape(deviceID))").json as? [String: Any] ?? [:]
            guard let keyText = device[path: "authentication.symmetricKey.\(key)Key"] as? String, let sak = try? SharedAccessKey(base64: keyText) else {
                throw ValidationError("\(deviceID) has no SAS \(key) key")
            }
            let host = try hostName ?? DeviceCommand.deviceHost(options)
            let expiry = Timestamp.now().secondsSince1970 + duration
            let token = SASToken.make(resourceURI: "\(host)/devices/\(deviceID)", key: sak, expiry: expiry)
            if options.json { Output.json(["sasToken": token, "expiry": expiry]) } else { Swift.print(token) }
        }
    }

    // MARK: - helpers

    /// Read-modify-write with If-Match, so concurrent changes are not overwritten silently.
    static func update(_ client: HubRESTClient, _ id: String, etag: String?, _ change: (inout [String: Any]) throws -> Void) async throws -> Any? {
        guard var device = try await client.request(.GET, "/devices/\(Path.escape(id))").json as? [String: Any] else {
            throw ClientError(status: 0, code: "BadResponse", message: "the hub returned no device")
        }
        let current = device["etag"] as? String ?? "*"
        var body: [String: Any] = [:]
        for key in ["deviceId", "status", "statusReason", "authentication", "capabilities", "deviceScope", "parentScopes"] {
            if let v = device[key] { body[key] = v }
        }
        try change(&body)
        device = body
        return try await client.request(.PUT, "/devices/\(Path.escape(id))", body: device, headers: [("If-Match", "\"\(etag ?? current)\"")]).json
    }

    /// The host name device credentials name: the policy connection string's, without a port.
    static func deviceHost(_ options: ClientOptions) throws -> String {
        let host = try options.resolvedConnectionString().hostName
        if host.hasPrefix("[") { return String(host.prefix { $0 != "]" }) + "]" }
        return String(host.split(separator: ":").first ?? Substring(host))
    }

    static func print(_ device: Any?, _ options: ClientOptions) {
        guard let d = device as? [String: Any] else { return }
        if options.json { return Output.json(d) }
        var pairs: [(String, String)] = [
            ("device", Output.text(d["deviceId"])), ("status", Output.text(d["status"])),
            ("status reason", Output.text(d["statusReason"])), ("auth", Output.text(d[path: "authentication.type"])),
        ]
        if d[path: "authentication.type"] as? String == "sas" {
            pairs.append(("primary key", Output.text(d[path: "authentication.symmetricKey.primaryKey"])))
            pairs.append(("secondary key", Output.text(d[path: "authentication.symmetricKey.secondaryKey"])))
        }
        if d[path: "authentication.type"] as? String == "selfSigned" {
            pairs.append(("primary thumbprint", Output.text(d[path: "authentication.x509Thumbprint.primaryThumbprint"])))
            pairs.append(("secondary thumbprint", Output.text(d[path: "authentication.x509Thumbprint.secondaryThumbprint"])))
        }
        pairs += [
            ("connection", Output.text(d["connectionState"])), ("last activity", Output.text(d["lastActivityTime"])),
            ("generation", Output.text(d["generationId"])), ("etag", Output.text(d["etag"])),
        ]
        Output.fields(pairs)
    }
}

/// Percent-escaping of identifiers in URL paths (device ids may contain `#`, `?`, `%`, `$` …).
enum Path {
    static func escape(_ segment: String) -> String {
        var out = ""
        for b in segment.utf8 {
            let c = Character(Unicode.Scalar(b))
            if c.isASCII && (c.isLetter || c.isNumber || "-._~".contains(c)) { out.append(c) } else { out += String(format: "%%%02X", b) }
        }
        return out
    }
}
