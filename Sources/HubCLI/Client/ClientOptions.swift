import ArgumentParser
import Foundation
import HubAuth
import NIOSSL

/// The options every client command of the CLI takes (device, policy, ca, user; later twin, method,
/// c2d, monitor, query): where the hub is, which credential to use, which CA to trust, how to print.
public struct ClientOptions: ParsableArguments {
    @Option(name: .customLong("hub"), help: ArgumentHelp("Hub base URL, https://HOST:PORT (default: https://<HostName of the connection string>).", valueName: "url"))
    public var hub: String?

    @Option(
        name: .customLong("connection-string"),
        help: ArgumentHelp("A shared access policy's connection string (default: $MERIDIAN_CONNECTION_STRING).", valueName: "cs"))
    public var connectionString: String?

    @Option(name: .customLong("ca"), help: ArgumentHelp("PEM file of a CA to trust for the hub's certificate (e.g. <data-dir>/tls/ca.pem).", valueName: "file"))
    public var ca: String?

    @Flag(name: .customLong("json"), help: "Print JSON instead of a table.")
    public var json = false

    public init() {}

    /// The policy connection string, from the option or the environment.
    func resolvedConnectionString() throws -> ConnectionString {
        guard let text = connectionString ?? ProcessInfo.processInfo.environment["MERIDIAN_CONNECTION_STRING"], !text.isEmpty else {
            throw ValidationError("give --connection-string or set MERIDIAN_CONNECTION_STRING (see `meridian policy connection-string`)")
        }
        let cs: ConnectionString
        do {
            cs = try ConnectionString.parse(text)
        } catch {
            throw ValidationError("the connection string is not valid: \(error)")
        }
        guard cs.sharedAccessKeyName != nil, cs.sharedAccessKey != nil else {
            throw ValidationError("the connection string must name a shared access policy (SharedAccessKeyName and SharedAccessKey)")
        }
        return cs
    }

    /// TLS towards the hub as every client command uses it: TLS 1.2 or later; when `ca` (a PEM file) is
    /// given, it is the trust root instead of the system's.
    static func tlsConfiguration(ca: String?) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let ca { tls.trustRoots = .file(ca) }
        return tls
    }

    /// Opens a REST client for the hub.
    func client() throws -> HubRESTClient {
        let cs = try resolvedConnectionString()
        let base = hub ?? "https://\(cs.hostName)"
        guard let url = URL(string: base), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ValidationError("--hub must be a URL like https://localhost:8443")
        }
        return try HubRESTClient(baseURL: base, connectionString: cs, caFile: ca)
    }
}
