import Foundation
import HubTestKit
import Testing

/// The `openssl` command line, used by tests to make throw-away keys and certificates (none are
/// committed) and as an independent TLS client.
enum OpenSSL {
    static func run(_ arguments: [String], timeout: TimeInterval = 30) async throws -> ProcessRunner.Result {
        try #require(ProcessRunner.isAvailable("openssl"), "the openssl command is needed for TLS tests")
        return try await ProcessRunner.run("openssl", arguments, timeout: timeout)
    }

    /// Runs `openssl` and fails the test if it fails.
    @discardableResult
    static func succeed(_ arguments: [String]) async throws -> String {
        let result = try await run(arguments)
        try #require(result.exitCode == 0, "openssl \(arguments.joined(separator: " ")) failed: \(result.output)")
        return result.output
    }

    /// A self-signed certificate and its unencrypted key, as PEM files in `directory`.
    /// `keyType`: `ec` (P-256) or `rsa` (2048 bits).
    static func selfSigned(
        in directory: TemporaryDirectory, name: String, keyType: String = "ec", commonName: String = "localhost"
    ) async throws -> (certificate: String, key: String) {
        let certificate = directory.appending("\(name).pem")
        let key = directory.appending("\(name).key")
        let keyOptions = keyType == "rsa" ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        try await succeed(
            ["req", "-x509"] + keyOptions + [
                "-nodes", "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=\(commonName)",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
        return (certificate, key)
    }

    /// The result of an `openssl s_client` handshake attempt against 127.0.0.1:`port`.
    struct Handshake {
        var result: ProcessRunner.Result
        /// "TLSv1.2", "TLSv1.3" … when the handshake completed.
        var protocolVersion: String?
        var cipher: String?
        var succeeded: Bool { result.exitCode == 0 && protocolVersion != nil }
    }

    /// Connects with `s_client` (`-brief` unless `brief` is false) plus `options`, sends nothing, and
    /// by default waits for the server to hang up (`-ign_eof`), as a real client waiting for an answer
    /// would; with `waitForServer: false` it hangs up itself right after the handshake.
    static func handshake(
        port: Int, _ options: [String], brief: Bool = true, waitForServer: Bool = true
    ) async throws -> Handshake {
        let result = try await run(
            ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost"]
                + (waitForServer ? ["-ign_eof"] : []) + (brief ? ["-brief"] : []) + options,
            timeout: 20)
        func field(_ name: String) -> String? {
            result.output.split(separator: "\n").first { $0.hasPrefix(name) }.map {
                String($0.dropFirst(name.count)).trimmingCharacters(in: .whitespaces)
            }
        }
        return Handshake(
            result: result, protocolVersion: field("Protocol version:") ?? field("    Protocol  :"),
            cipher: field("Ciphersuite:") ?? field("    Cipher    :"))
    }
}
