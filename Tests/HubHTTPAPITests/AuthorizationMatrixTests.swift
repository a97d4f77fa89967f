import HTTPTypes
import HubCore
import HummingbirdTesting
import Testing

@testable import HubHTTPAPI

/// Test plan S7: the authorization matrix, generated from the route table.
@Suite("service API authorization")
struct AuthorizationMatrixTests {
    @Test("every route declares the rights it needs", arguments: ServiceRoute.allCases)
    func declaredRights(_ route: ServiceRoute) {
        #expect(!route.rights.isEmpty, "\(route) has no declared rights")
        #expect(route.path.hasPrefix("/"))
    }

    @Test("no two routes share a method and path")
    func unique() {
        let keys = ServiceRoute.allCases.map { "\($0.method) \($0.path)" } + DeviceRoute.allCases.map { "\($0.method) \($0.path)" }
        #expect(Set(keys).count == keys.count)
    }

    /// A concrete request for a route: path captures filled in; a body only where one is read.
    static func sample(_ route: ServiceRoute) -> (path: String, body: String?) {
        (sample(path: route.path), route.takesBody ? "not json" : nil)
    }

    /// A route pattern with its captures filled in.
    static func sample(path pattern: String) -> String {
        pattern
            .replacingOccurrences(of: "{deviceId}", with: "matrix-device")
            .replacingOccurrences(of: "{moduleId}", with: "matrix-module")
            .replacingOccurrences(of: "{policyName}", with: "registryRead")
            .replacingOccurrences(of: "{certificateName}", with: "matrix-ca")
            .replacingOccurrences(of: "{username}", with: "matrix-user")
            .replacingOccurrences(of: "{etag}", with: "matrix-lock")
            .replacingOccurrences(of: "{lockToken}", with: "matrix-lock")
    }

    /// Every route × every default policy: refused with 403 exactly when the policy's rights do not
    /// satisfy the route's; otherwise the call gets past authorization (whatever the handler then says:
    /// 400 for the deliberately invalid body, 404 for the missing resource, 200 …).
    @Test("every route × every default policy: allowed exactly when the rights satisfy the route's")
    func matrix() async throws {
        let hub = try await TestHub.make()
        let policies = try await hub.registry.policies()
        #expect(Set(policies.map(\.name)).isSuperset(of: ["iothubowner", "service", "device", "registryRead", "registryReadWrite"]))
        try await hub.withClient { client in
            for route in ServiceRoute.allCases {
                let (path, body) = Self.sample(route)
                for policy in policies {
                    let response = try await client.call(route.method, path, json: body, token: hub.token(policy: policy.name))
                    let allowed = policy.rights.satisfies(route.rights)
                    if allowed {
                        #expect(response.status != .forbidden && response.status != .unauthorized, "\(route) with \(policy.name): \(response.text)")
                    } else {
                        expectError(response, .forbidden, "IotHubUnauthorized")
                    }
                }
            }
        }
    }

    @Test("the router serves exactly the route tables (service and device): any other method on a table path is 405")
    func methodsOutsideTheTable() async throws {
        let hub = try await TestHub.make()
        let all: [HTTPRequest.Method] = [.get, .put, .post, .delete, .patch]
        let paths = ServiceRoute.allCases.map { Self.sample($0).path } + DeviceRoute.allCases.map { Self.sample(path: $0.path) }
        try await hub.withClient { client in
            for path in paths {
                let served = Set(RoutePattern.methods(at: path))
                for method in all where !served.contains(method) {
                    let response = try await client.call(method, path, token: hub.token())
                    expectError(response, .methodNotAllowed, "MethodNotAllowed")
                    #expect(response.headers[.allow].map { Set($0.components(separatedBy: ", ")) } == Set(served.map(\.rawValue)))
                }
            }
        }
    }
}
