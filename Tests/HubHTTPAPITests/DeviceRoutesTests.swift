import Foundation
import HTTPTypes
import HubCore
import HummingbirdTesting
import NIOCore
import Testing

@testable import HubHTTPAPI

@Suite("devices, statistics and bulk")
struct DeviceRoutesTests {
    static let sasBody = #"{"deviceId":"dev1","status":"enabled","authentication":{"symmetricKey":{"primaryKey":null,"secondaryKey":null},"type":"sas"},"capabilities":{"iotEdge":false}}"#

    @Test("create, get, update with each If-Match form, delete: Azure's status codes and Device shape")
    func lifecycle() async throws {
        let hub = try await TestHub.make()
        let token = hub.token()
        try await hub.withClient { client in
            let created = try await client.call(.put, "/devices/dev1", json: Self.sasBody, token: token)
            #expect(created.status == .ok, "\(created.text)")  // 200, not 201 (protocol §4.1)
            let device = try #require(created.json)
            #expect(
                device.objectKeys == [
                    "deviceId", "moduleId", "generationId", "etag", "connectionState", "status", "statusReason",
                    "connectionStateUpdatedTime", "statusUpdatedTime", "lastActivityTime", "cloudToDeviceMessageCount", "authentication",
                    "capabilities", "deviceScope", "parentScopes",
                ])
            #expect(device["deviceId"] == .string("dev1"))
            #expect(device["moduleId"] == .null)
            #expect(device["statusReason"] == .null)
            #expect(device["connectionState"] == .string("Disconnected"))
            #expect(device["lastActivityTime"] == .string("0001-01-01T00:00:00Z"))
            #expect(device["cloudToDeviceMessageCount"] == .number("0"))
            #expect(device[path: "authentication.type"] == .string("sas"))
            #expect(device[path: "authentication.x509Thumbprint.primaryThumbprint"] == .null)
            let primary = try #require(device[path: "authentication.symmetricKey.primaryKey"]?.string)
            #expect(try SharedAccessKey(base64: primary).bytes.count == 32)
            #expect(device["parentScopes"] == .array([]))
            let etag = try #require(device["etag"]?.string)
            #expect(created.headers[.eTag] == "\"\(etag)\"")

            // Create again without If-Match: 409.
            expectError(try await client.call(.put, "/devices/dev1", json: Self.sasBody, token: token), .conflict, "DeviceAlreadyExists")

            // Update: quoted etag (what the SDK sends), unquoted, stale, quoted star, bare star.
            let disable = #"{"deviceId":"dev1","status":"disabled","statusReason":"maintenance"}"#
            let quoted = try await client.call(.put, "/devices/dev1", json: disable, token: token, ifMatch: "\"\(etag)\"")
            #expect(quoted.status == .ok)
            #expect(quoted.json?["status"] == .string("disabled"))
            #expect(quoted.json?["statusReason"] == .string("maintenance"))
            let etag2 = try #require(quoted.json?["etag"]?.string)
            #expect(etag2 != etag)
            let unquoted = try await client.call(.put, "/devices/dev1", json: disable, token: token, ifMatch: etag2)
            #expect(unquoted.status == .ok)
            expectError(try await client.call(.put, "/devices/dev1", json: disable, token: token, ifMatch: "\"\(etag)\""), .preconditionFailed, "PreconditionFailed")
            #expect(try await client.call(.put, "/devices/dev1", json: Self.sasBody, token: token, ifMatch: "\"*\"").status == .ok)
            #expect(try await client.call(.put, "/devices/dev1", json: Self.sasBody, token: token, ifMatch: "*").status == .ok)

            let got = try await client.call(.get, "/devices/dev1", token: token)
            #expect(got.status == .ok)
            #expect(got.json?["status"] == .string("enabled"))

            // Delete: stale etag 412, then "*" 204 (not 200), then 404.
            expectError(try await client.call(.delete, "/devices/dev1", token: token, ifMatch: "\"\(etag)\""), .preconditionFailed, "PreconditionFailed")
            let deleted = try await client.call(.delete, "/devices/dev1", token: token, ifMatch: "\"*\"")
            #expect(deleted.status == .noContent)
            #expect(deleted.body.readableBytes == 0)
            expectError(try await client.call(.get, "/devices/dev1", token: token), .notFound, "DeviceNotFound")
            #expect(try await client.call(.get, "/devices/dev1", token: token).azureError?.code == 404001)
            expectError(try await client.call(.delete, "/devices/dev1", token: token), .notFound, "DeviceNotFound")
        }
    }

    @Test("selfSigned and CA devices; supplied keys are kept; keys are regenerated on request")
    func authenticationTypes() async throws {
        let hub = try await TestHub.make()
        let token = hub.token()
        try await hub.withClient { client in
            let thumb = String(repeating: "AB", count: 20)
            let selfSigned = #"{"deviceId":"dev2","status":"enabled","authentication":{"x509Thumbprint":{"primaryThumbprint":"\#(thumb.lowercased())","secondaryThumbprint":null},"type":"selfSigned"},"capabilities":{"iotEdge":false}}"#
            let dev2 = try await client.call(.put, "/devices/dev2", json: selfSigned, token: token)
            #expect(dev2.status == .ok, "\(dev2.text)")
            #expect(dev2.json?[path: "authentication.type"] == .string("selfSigned"))
            #expect(dev2.json?[path: "authentication.x509Thumbprint.primaryThumbprint"] == .string(thumb))
            #expect(dev2.json?[path: "authentication.symmetricKey.primaryKey"] == .null)

            let ca = #"{"deviceId":"dev3","status":"enabled","authentication":{"type":"certificateAuthority"},"capabilities":{"iotEdge":true}}"#
            let dev3 = try await client.call(.put, "/devices/dev3", json: ca, token: token)
            #expect(dev3.json?[path: "authentication.type"] == .string("certificateAuthority"))
            #expect(dev3.json?[path: "capabilities.iotEdge"] == .bool(true))

            let key = SharedAccessKey.generate().base64
            let withKeys = #"{"deviceId":"dev4","authentication":{"symmetricKey":{"primaryKey":"\#(key)","secondaryKey":"\#(key)"}}}"#
            let dev4 = try await client.call(.put, "/devices/dev4", json: withKeys, token: token)
            #expect(dev4.json?[path: "authentication.symmetricKey.primaryKey"] == .string(key))

            let swapped = try await client.call(.post, "/devices/dev4/regenerateKey", json: #"{"keyType":"primary"}"#, token: token)
            #expect(swapped.status == .ok)
            #expect(swapped.json?[path: "authentication.symmetricKey.primaryKey"] != .string(key))
            #expect(swapped.json?[path: "authentication.symmetricKey.secondaryKey"] == .string(key))
            expectError(try await client.call(.post, "/devices/dev4/regenerateKey", json: #"{"keyType":"tertiary"}"#, token: token), .badRequest, "ArgumentInvalid")
            expectError(try await client.call(.post, "/devices/dev2/regenerateKey", json: #"{"keyType":"swap"}"#, token: token), .badRequest, "ArgumentInvalid")

            // The GET-modify-PUT pattern of the SDKs and the CLI: the full Device sent back is accepted.
            let full = try #require(dev4.json)
            let echoed = try await client.call(.put, "/devices/dev4", json: JSONWriter.string(full), token: token, ifMatch: "*")
            #expect(echoed.status == .ok, "\(echoed.text)")
        }
    }

    @Test("invalid bodies and ids: 400 ArgumentInvalid, never 5xx, keys never echoed (H9, H13, H17)")
    func badInput() async throws {
        let hub = try await TestHub.make()
        let token = hub.token()
        let secret = "c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LWlzLXRvby1sb25nLWZvci1henVyZS1rZXlzLW9mLXNpeHR5LWZvdXItYnl0ZXMtbWF4"
        let cases: [(String, String)] = [
            ("/devices/dev1", "{"),
            ("/devices/dev1", "[]"),
            ("/devices/dev1", #"{"deviceId":"other"}"#),
            ("/devices/dev1", #"{"deviceId":"dev1","unknown":1}"#),
            ("/devices/dev1", #"{"deviceId":"dev1","status":"on"}"#),
            ("/devices/dev1", #"{"deviceId":"dev1","status":1}"#),
            ("/devices/dev1", #"{"deviceId":"dev1","capabilities":{"iotEdge":"yes"}}"#),
            ("/devices/dev1", #"{"deviceId":"dev1","statusReason":"\#(String(repeating: "x", count: 129))"}"#),
            ("/devices/dev1", #"{"deviceId":"dev1","authentication":{"type":"sas","symmetricKey":{"primaryKey":"not base64!"}}}"#),
            ("/devices/dev1", #"{"deviceId":"dev1","authentication":{"type":"sas","symmetricKey":{"primaryKey":"AAAA"}}}"#),
            ("/devices/dev1", #"{"deviceId":"dev1","authentication":{"type":"sas","symmetricKey":{"primaryKey":"\#(secret)"}}}"#),
            ("/devices/dev1", #"{"deviceId":"dev1","authentication":{"type":"selfSigned","x509Thumbprint":{"primaryThumbprint":"xyz"}}}"#),
            ("/devices/dev1", #"{"deviceId":"dev1","authentication":{"type":"selfSigned"}}"#),
            ("/devices/dev1", #"{"deviceId":"dev1","authentication":{"type":"magic"}}"#),
            ("/devices/dev1", #"{"deviceId":"dev1","a":1,"a":2}"#),
            ("/devices/dev1", #"{"deviceId":"dev1","cloudToDeviceMessageCount":"many"}"#),
            ("/devices/..%2Fetc", #"{}"#),
            ("/devices/a%00b", #"{}"#),
            ("/devices/a%2", #"{}"#),
            ("/devices/\(String(repeating: "d", count: 129))", #"{}"#),
            ("/devices/bad%20space", #"{}"#),
            ("/devices/%C3%A9", #"{}"#),
        ]
        try await hub.withClient { client in
            for (path, body) in cases {
                let response = try await client.call(.put, path, json: body, token: token)
                expectError(response, .badRequest, "ArgumentInvalid")
                #expect(!response.text.contains(secret.prefix(20)))
            }
            expectError(try await client.call(.put, "/devices/dev1", json: "", token: token), .badRequest, "ArgumentNull")
            expectError(try await client.call(.get, "/devices?top=0", token: token), .badRequest, "ArgumentInvalid")
            expectError(try await client.call(.get, "/devices?top=ten", token: token), .badRequest, "ArgumentInvalid")
        }
    }

    @Test("ids with Azure's punctuation round-trip through percent-encoding")
    func punctuation() async throws {
        let hub = try await TestHub.make()
        try await hub.withClient { client in
            let id = "a-b:c.d+e%f_g#h*i?j!k(l)m,n=o@p;q$r'"
            let encoded = id.utf8.map { b -> String in
                let c = Character(Unicode.Scalar(b))
                return c.isLetter || c.isNumber || c == "-" || c == "." || c == "_" ? String(c) : String(format: "%%%02X", b)
            }.joined()
            let created = try await client.call(.put, "/devices/\(encoded)", json: "{}", token: hub.token())
            #expect(created.status == .ok, "\(created.text)")
            #expect(created.json?["deviceId"] == .string(id))
            #expect(try await client.call(.get, "/devices/\(encoded)", token: hub.token()).status == .ok)
        }
    }

    @Test("list with top, statistics, service statistics")
    func listAndStatistics() async throws {
        let hub = try await TestHub.make(connectedDevices: 7)
        let token = hub.token()
        try await hub.withClient { client in
            for id in ["c", "a", "b"] {
                #expect(try await client.call(.put, "/devices/\(id)", json: "{}", token: token).status == .ok)
            }
            #expect(try await client.call(.put, "/devices/d", json: #"{"status":"disabled"}"#, token: token).status == .ok)
            let two = try await client.call(.get, "/devices?top=2", token: token)
            #expect(two.json?.array?.compactMap { $0["deviceId"]?.string } == ["a", "b"])
            let all = try await client.call(.get, "/devices", token: token)
            #expect(all.json?.array?.count == 4)
            let stats = try await client.call(.get, "/statistics/devices", token: token)
            #expect(stats.text == #"{"totalDeviceCount":4,"enabledDeviceCount":3,"disabledDeviceCount":1}"#)
            let service = try await client.call(.get, "/statistics/service", token: hub.token(policy: "service"))
            #expect(service.text == #"{"connectedDeviceCount":7}"#)
        }
    }

    @Test("bulk: 200 with isSuccessful, or 400 with the same body listing failures")
    func bulk() async throws {
        let hub = try await TestHub.make()
        let token = hub.token()
        try await hub.withClient { client in
            let create = #"[{"id":"bulk1","importMode":"create","status":"enabled","authentication":{"type":"sas"}},{"id":"bulk2","importMode":"create"}]"#
            let ok = try await client.call(.post, "/devices", json: create, token: token)
            #expect(ok.status == .ok, "\(ok.text)")
            #expect(ok.text == #"{"isSuccessful":true,"errors":[],"warnings":[]}"#)
            let again = try await client.call(.post, "/devices", json: create, token: token)
            #expect(again.status == .badRequest)
            #expect(again.json?["isSuccessful"] == .bool(false))
            let errors = try #require(again.json?["errors"]?.array)
            #expect(errors.count == 2)
            #expect(errors.first?["errorCode"] == .string("DeviceAlreadyExists"))
            #expect(errors.first?["operation"] == .string("create"))
            #expect(errors.first?["deviceId"] == .string("bulk1"))
            #expect(errors.first?["moduleId"] == .null)
            let delete = try await client.call(.post, "/devices", json: #"[{"id":"bulk1","importMode":"delete"}]"#, token: token)
            #expect(delete.status == .ok)
            expectError(try await client.call(.post, "/devices", json: #"[{"id":"x","importMode":"explode"}]"#, token: token), .badRequest, "ArgumentInvalid")
            expectError(try await client.call(.post, "/devices", json: #"{"id":"x"}"#, token: token), .badRequest, "ArgumentInvalid")
            let tooMany = "[" + (0...100).map { #"{"id":"m\#($0)","importMode":"create"}"# }.joined(separator: ",") + "]"
            let refused = try await client.call(.post, "/devices", json: tooMany, token: token)
            #expect(refused.status.code == 413 || refused.status == .badRequest, "\(refused.text)")
        }
    }
}

extension JSONValue {
    var objectKeys: [String]? {
        if case .object(let object) = self { return object.keys }
        return nil
    }
}
