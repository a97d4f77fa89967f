import ArgumentParser
import Foundation
import NIOHTTP1

/// `meridian ca …`: certificate authorities for `certificateAuthority` device authentication.
public struct CACommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Register and verify CA certificates that sign device certificates.",
        discussion: """
            A registered CA is trusted only after proof of possession: `ca verification-code NAME` gives a code;
            sign a certificate whose subject CN is that code with the CA's key; `ca verify NAME --cert proof.pem`.
            """,
        subcommands: [Add.self, VerificationCode.self, Verify.self, List.self, Show.self, Delete.self])

    public init() {}

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a CA certificate (PEM); it starts unverified.")
        @Argument(help: "A name for it.") var name: String
        @Option(help: ArgumentHelp("The CA certificate, PEM.", valueName: "file")) var cert: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let pem = try CACommand.read(cert)
            let result = try await options.client().request(.PUT, "/certificates/\(Path.escape(name))", body: ["certificate": pem]).json
            CACommand.print(result, options)
        }
    }

    struct VerificationCode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verification-code", abstract: "Get a new verification code for proof of possession.")
        @Argument(help: "The CA's name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let result = try await options.client().request(
                .POST, "/certificates/\(Path.escape(name))/generateVerificationCode", headers: [("If-Match", "\"*\"")]).json
            if options.json { return Output.json(result as Any) }
            let code = (result as? [String: Any])?[path: "properties.verificationCode"]
            Swift.print(Output.text(code))
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prove possession of the CA's key with a certificate whose CN is the verification code.")
        @Argument(help: "The CA's name.") var name: String
        @Option(help: ArgumentHelp("The proof certificate, PEM, signed by the CA.", valueName: "file")) var cert: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let pem = try CACommand.read(cert)
            let result = try await options.client().request(
                .POST, "/certificates/\(Path.escape(name))/verify", body: ["certificate": pem], headers: [("If-Match", "\"*\"")]).json
            CACommand.print(result, options)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered CAs.")
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let result = try await options.client().request(.GET, "/certificates").json
            let items = (result as? [String: Any])?["value"] as? [[String: Any]] ?? (result as? [[String: Any]] ?? [])
            if options.json { return Output.json(items) }
            Output.table(
                ["NAME", "VERIFIED", "SUBJECT", "EXPIRES"],
                items.map { [Output.text($0["name"]), Output.text($0[path: "properties.isVerified"]), Output.text($0[path: "properties.subject"]), Output.text($0[path: "properties.expiry"])] })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a registered CA.")
        @Argument(help: "The CA's name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            CACommand.print(try await options.client().request(.GET, "/certificates/\(Path.escape(name))").json, options)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a CA; devices it signed can no longer connect.")
        @Argument(help: "The CA's name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            try await options.client().request(.DELETE, "/certificates/\(Path.escape(name))", headers: [("If-Match", "\"*\"")])
            if options.json { Output.json(["deleted": name]) } else { Swift.print("deleted \(name)") }
        }
    }

    static func read(_ file: String) throws -> String {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8), text.contains("-----BEGIN CERTIFICATE-----") else {
            throw ValidationError("\(file) is not a readable PEM certificate")
        }
        return text
    }

    static func print(_ value: Any?, _ options: ClientOptions) {
        guard let c = value as? [String: Any] else { return }
        if options.json { return Output.json(c) }
        Output.fields([
            ("name", Output.text(c["name"])), ("verified", Output.text(c[path: "properties.isVerified"])),
            ("subject", Output.text(c[path: "properties.subject"])), ("thumbprint", Output.text(c[path: "properties.thumbprint"])),
            ("expires", Output.text(c[path: "properties.expiry"])), ("verification code", Output.text(c[path: "properties.verificationCode"])),
            ("etag", Output.text(c["etag"])),
        ])
    }
}
