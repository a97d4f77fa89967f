import Foundation
import HTTPTypes
import HubCore
import HubTestKit
import HummingbirdTesting
import Testing

@testable import HubHTTPAPI

@Suite("modules, policies, CA certificates, MQTT users")
struct ModuleAndExtensionRoutesTests {
    @Test("module create, get, list, etag update, delete; 404 for a missing device")
    func modules() async throws {
        let hub = try await TestHub.make()
        let token = hub.token()
        try await hub.withClient { client in
            expectError(try await client.call(.put, "/devices/nodev/modules/m1", json: "{}", token: token), .notFound, "DeviceNotFound")
            #expect(try await client.call(.put, "/devices/dev1", json: "{}", token: token).status == .ok)
            let body = #"{"moduleId":"m1","deviceId":"dev1","authentication":{"symmetricKey":{"primaryKey":null,"secondaryKey":null},"type":"sas"}}"#
            let created = try await client.call(.put, "/devices/dev1/modules/m1", json: body, token: token)
            #expect(created.status == .ok, "\(created.text)")
            let module = try #require(created.json)
            #expect(
                module.objectKeys == [
                    "moduleId", "managedBy", "deviceId", "generationId", "etag", "connectionState", "connectionStateUpdatedTime",
                    "lastActivityTime", "cloudToDeviceMessageCount", "authentication",
                ])
            #expect(module["managedBy"] == .null)
            let etag = try #require(module["etag"]?.string)
            expectError(try await client.call(.put, "/devices/dev1/modules/m1", json: body, token: token), .conflict, "ModuleAlreadyExistsOnDevice")
            let updated = try await client.call(.put, "/devices/dev1/modules/m1", json: #"{"managedBy":"IotEdge"}"#, token: token, ifMatch: "\"\(etag)\"")
            #expect(updated.json?["managedBy"] == .string("IotEdge"))
            expectError(
                try await client.call(.put, "/devices/dev1/modules/m1", json: #"{"moduleId":"m2"}"#, token: token, ifMatch: "*"), .badRequest,
                "ArgumentInvalid")
            #expect(try await client.call(.put, "/devices/dev1/modules/m2", json: "{}", token: token).status == .ok)
            let list = try await client.call(.get, "/devices/dev1/modules", token: token)
            #expect(list.json?.array?.compactMap { $0["moduleId"]?.string } == ["m1", "m2"])
            #expect(try await client.call(.get, "/devices/dev1/modules/m1", token: token).status == .ok)
            expectError(try await client.call(.delete, "/devices/dev1/modules/m1", token: token, ifMatch: "\"\(etag)\""), .preconditionFailed, "PreconditionFailed")
            #expect(try await client.call(.delete, "/devices/dev1/modules/m1", token: token, ifMatch: "*").status == .noContent)
            expectError(try await client.call(.get, "/devices/dev1/modules/m1", token: token), .notFound, "ModuleNotFound")
        }
    }

    @Test("policies: the list has no keys, a policy has them, regenerating a key invalidates the old token")
    func policies() async throws {
        let hub = try await TestHub.make()
        try await hub.withClient { client in
            let list = try await client.call(.get, "/policies", token: hub.token())
            #expect(list.status == .ok)
            let items = try #require(list.json?.array)
            #expect(items.contains { $0["keyName"] == .string("iothubowner") && $0["rights"] == .string("RegistryRead, RegistryWrite, ServiceConnect, DeviceConnect") })
            #expect(items.allSatisfy { $0.objectKeys == ["keyName", "rights"] })
            #expect(!list.text.contains(hub.ownerKey.base64))

            let one = try await client.call(.get, "/policies/registryRead", token: hub.token())
            #expect(one.json?.objectKeys == ["keyName", "primaryKey", "secondaryKey", "rights"])
            #expect(one.json?["primaryKey"] == .string(hub.registry.policy(named: "registryRead")!.primaryKey.base64))
            expectError(try await client.call(.get, "/policies/nope", token: hub.token()), .notFound, "IotHubNotFound")

            let oldToken = hub.token(policy: "registryRead")
            #expect(try await client.call(.get, "/devices", token: oldToken).status == .ok)
            let regenerated = try await client.call(.post, "/policies/registryRead/regenerateKey", json: #"{"keyType":"primary"}"#, token: hub.token())
            #expect(regenerated.status == .ok)
            expectError(try await client.call(.get, "/devices", token: oldToken), .unauthorized, "IotHubUnauthorizedAccess")
            #expect(try await client.call(.get, "/devices", token: hub.token(policy: "registryRead")).status == .ok)
        }
    }

    @Test("CA certificates: register, proof of possession, verify, list, delete")
    func certificates() async throws {
        guard ProcessRunner.isAvailable("openssl") else { return }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let ca = try await TestPKI.makeCA(in: dir.path, name: "ca")
        let hub = try await TestHub.make()
        let token = hub.token()
        try await hub.withClient { client in
            let pem = try String(contentsOfFile: ca.certificate, encoding: .utf8)
            let body = JSONWriter.string(.object(JSONObject(["certificate": .string(pem)])))
            let created = try await client.call(.put, "/certificates/test-ca", json: body, token: token)
            #expect(created.status == .ok, "\(created.text)")
            #expect(created.json?.objectKeys == ["name", "etag", "properties"])
            #expect(created.json?[path: "properties.isVerified"] == .bool(false))
            #expect(created.json?[path: "properties.subject"]?.string?.contains("Meridian API test CA") == true)
            expectError(try await client.call(.put, "/certificates/test-ca", json: body, token: token), .conflict, "CertificateAlreadyExists")
            expectError(try await client.call(.put, "/certificates/bad%20name", json: body, token: token), .badRequest, "ArgumentInvalid")
            expectError(
                try await client.call(.put, "/certificates/other", json: #"{"certificate":"nope"}"#, token: token), .badRequest, "ArgumentInvalid")

            let code = try await client.call(.post, "/certificates/test-ca/generateVerificationCode", token: token, ifMatch: "\"*\"")
            #expect(code.status == .ok, "\(code.text)")
            let nonce = try #require(code.json?[path: "properties.verificationCode"]?.string)
            let proof = try await TestPKI.makeLeaf(in: dir.path, name: "proof", commonName: nonce, issuer: ca)
            let proofBody = JSONWriter.string(.object(JSONObject(["certificate": .string(try String(contentsOfFile: proof.certificate, encoding: .utf8))])))
            let wrong = try await TestPKI.makeLeaf(in: dir.path, name: "wrong", commonName: "not-the-code", issuer: ca)
            let wrongBody = JSONWriter.string(.object(JSONObject(["certificate": .string(try String(contentsOfFile: wrong.certificate, encoding: .utf8))])))
            let refused = try await client.call(.post, "/certificates/test-ca/verify", json: wrongBody, token: token, ifMatch: "*")
            #expect(refused.status.code >= 400 && refused.status.code < 500)
            let verified = try await client.call(.post, "/certificates/test-ca/verify", json: proofBody, token: token, ifMatch: "*")
            #expect(verified.status == .ok, "\(verified.text)")
            #expect(verified.json?[path: "properties.isVerified"] == .bool(true))

            let list = try await client.call(.get, "/certificates", token: hub.token(policy: "registryRead"))
            #expect(list.json?["value"]?.array?.compactMap { $0["name"]?.string } == ["test-ca"])
            #expect(try await client.call(.get, "/certificates/test-ca", token: token).status == .ok)
            #expect(try await client.call(.delete, "/certificates/test-ca", token: token, ifMatch: "*").status == .noContent)
            expectError(try await client.call(.get, "/certificates/test-ca", token: token), .notFound, "CertificateNotFound")
        }
    }

    @Test("MQTT users: the password is write-only; rules round-trip; delete")
    func users() async throws {
        let hub = try await TestHub.make()
        let token = hub.token()
        let password = "correct horse battery staple"
        try await hub.withClient { client in
            let body = ##"{"password":"\##(password)","rules":[{"pattern":"sensors/%c/#","actions":["publish"],"allow":true},{"pattern":"#","actions":["publish","subscribe"],"allow":false}]}"##
            let created = try await client.call(.put, "/users/alice", json: body, token: token)
            #expect(created.status == .ok, "\(created.text)")
            #expect(created.json?.objectKeys == ["username", "rules", "etag"])
            #expect(!created.text.contains(password))
            #expect(
                created.json?["rules"] == .array([
                    .object(JSONObject(["pattern": .string("sensors/%c/#"), "actions": .array([.string("publish")]), "allow": .bool(true)])),
                    .object(
                        JSONObject(["pattern": .string("#"), "actions": .array([.string("publish"), .string("subscribe")]), "allow": .bool(false)])),
                ]))
            let got = try await client.call(.get, "/users/alice", token: token)
            #expect(!got.text.contains(password) && !got.text.contains("scrypt"))
            let list = try await client.call(.get, "/users", token: token)
            #expect(list.json?.array?.compactMap { $0["username"]?.string } == ["alice"])
            expectError(
                try await client.call(.put, "/users/bob", json: #"{"password":"x","rules":[{"pattern":"a","actions":["read"]}]}"#, token: token),
                .badRequest, "ArgumentInvalid")
            expectError(try await client.call(.put, "/users/bob", json: #"{"password":5}"#, token: token), .badRequest, "ArgumentInvalid")
            #expect(try await client.call(.delete, "/users/alice", token: token, ifMatch: "*").status == .noContent)
            expectError(try await client.call(.get, "/users/alice", token: token), .notFound, "UserNotFound")
        }
    }
}

/// Test certificates made with the openssl CLI at test time (no keys are committed).
enum TestPKI {
    struct Pair {
        var certificate: String
        var key: String
    }

    static func openssl(_ arguments: [String]) async throws {
        let result = try await ProcessRunner.run("openssl", arguments)
        guard result.exitCode == 0 else { throw TestPKIError(output: result.output) }
    }

    struct TestPKIError: Error {
        var output: String
    }

    static let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]

    static func makeCA(in dir: String, name: String) async throws -> Pair {
        let pair = Pair(certificate: "\(dir)/\(name).pem", key: "\(dir)/\(name).key")
        try await openssl(
            ["req", "-x509"] + ec + [
                "-keyout", pair.key, "-out", pair.certificate, "-days", "2", "-subj", "/CN=Meridian API test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        return pair
    }

    /// A leaf signed by `issuer`; with `serverNames`, a TLS server certificate for them.
    static func makeLeaf(in dir: String, name: String, commonName: String, issuer: Pair, serverNames: [String] = []) async throws -> Pair {
        let pair = Pair(certificate: "\(dir)/\(name).pem", key: "\(dir)/\(name).key")
        let csr = "\(dir)/\(name).csr"
        try await openssl(["req"] + ec + ["-keyout", pair.key, "-out", csr, "-subj", "/CN=\(commonName)"])
        var extensions = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        if !serverNames.isEmpty {
            extensions += "extendedKeyUsage=serverAuth\nsubjectAltName=" + serverNames.map { $0.first!.isNumber ? "IP:\($0)" : "DNS:\($0)" }.joined(separator: ",") + "\n"
        }
        let ext = "\(dir)/\(name).ext"
        try extensions.write(toFile: ext, atomically: false, encoding: .utf8)
        try await openssl([
            "x509", "-req", "-in", csr, "-CA", issuer.certificate, "-CAkey", issuer.key, "-CAcreateserial", "-out", pair.certificate, "-days", "2",
            "-extfile", ext,
        ])
        return pair
    }
}
