import HTTPTypes
import HubAuth
import HubCore
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import HubHTTPAPI

/// The HTTP abuse cases of the test plan that the router alone can show (H1–H10, H18–H20); the ones
/// that need sockets are in `ListenerTests`.
@Suite("service API abuse cases")
struct AbuseTests {
    @Test("H1–H7: missing, expired, tampered, foreign and malformed tokens are 401, never 5xx, never echoed")
    func badTokens() async throws {
        let hub = try await TestHub.make()
        let now = WallClock.nowMillis() / 1000
        let good = hub.token()
        let sig = try #require(good.split(separator: "&").first { $0.hasPrefix("sig=") }).dropFirst(4)
        var flipped = Array(sig)
        flipped[3] = flipped[3] == "A" ? "B" : "A"
        let tokens: [String?] = [
            nil, "",
            hub.token(expiry: now - 3600),  // H2 expired beyond the skew
            good.replacingOccurrences(of: String(sig), with: String(flipped)),  // H3 one bit
            good.replacingOccurrences(of: String(sig), with: String(sig.prefix(10))),  // H3 truncated
            good.replacingOccurrences(of: String(sig), with: String(sig) + "%3D%3D"),  // H3 over-padded
            hub.token(host: "otherhub.azure-devices.net"),  // H5 another hub
            hub.token(host: "localhost/devices/dev1"),  // H5 another resource
            hub.token(expiry: now + 2 * 365 * 24 * 3600),  // H6 lifetime too long
            "SharedAccessSignature sr=localhost&se=\(now + 60)&skn=iothubowner",  // H7 no sig
            good + "&se=\(now + 60)",  // H7 duplicated parameter
            "SharedAccessSignature sr=localhost&sig=abc&se=abc&skn=iothubowner",  // H7 se=abc
            "SharedAccessSignature sr=localhost&sig=abc&se=18446744073709551616&skn=iothubowner",  // H7 se=2^64
            hub.token(policy: "nosuchpolicy", key: hub.ownerKey),  // H7 unknown skn
            "Bearer abc",
            String(repeating: "A", count: 100_000),
        ]
        try await hub.withClient { client in
            for token in tokens {
                let response = try await client.call(.get, "/devices", token: token)
                expectError(response, .unauthorized, "IotHubUnauthorizedAccess")
                #expect(response.azureError?.code == 401002)
                #expect(!response.text.contains(String(sig.prefix(12))))
            }
        }
    }

    @Test("H20: a registryRead token cannot write (403); a registryReadWrite one can")
    func scopedPolicies() async throws {
        let hub = try await TestHub.make()
        try await hub.withClient { client in
            let response = try await client.call(.put, "/devices/dev1", json: "{}", token: hub.token(policy: "registryRead"))
            expectError(response, .forbidden, "IotHubUnauthorized")
            #expect(try await client.call(.put, "/devices/dev1", json: "{}", token: hub.token(policy: "registryReadWrite")).status == .ok)
            // The owner's secondary key works too.
            let secondary = hub.registry.policy(named: "iothubowner")!.secondaryKey
            #expect(try await client.call(.get, "/devices/dev1", token: hub.token(key: secondary)).status == .ok)
        }
    }

    @Test("H10: a body that is not application/json is 415; H8: a declared length over the limit is 413")
    func mediaTypeAndSize() async throws {
        let hub = try await TestHub.make(maximumBodySize: 1024)
        try await hub.withClient { client in
            for type in ["text/plain", "application/x-www-form-urlencoded", "application/jsonp", ""] {
                var headers: HTTPFields = [:]
                headers[.contentType] = type
                let response = try await client.call(.put, "/devices/dev1", json: "{}", token: hub.token(), headers: headers)
                expectError(response, .unsupportedMediaType, "UnsupportedMediaType")
            }
            var headers: HTTPFields = [:]
            headers[.contentType] = "Application/JSON"
            #expect(try await client.call(.put, "/devices/dev1", json: "{}", token: hub.token(), headers: headers).status == .ok)
            let big = #"{"deviceId":"dev2","statusReason":""# + String(repeating: "x", count: 2000) + #""}"#
            let response = try await client.call(.put, "/devices/dev2", json: big, token: hub.token())
            expectError(response, .contentTooLarge, "MessageTooLarge")
            #expect(response.headers[.connection] == "close")
        }
    }

    @Test("H19: unknown paths are a JSON 404; MQTT paths without an upgrade are 426")
    func unknownRoutes() async throws {
        let hub = try await TestHub.make()
        try await hub.withClient { client in
            for path in ["/", "/nope", "/devices/a/b/c/d", "/twins/dev1/other", "/statistics"] {
                expectError(try await client.call(.get, path, token: hub.token()), .notFound, "NotFound")
            }
            // Unknown routes answer without looking at credentials.
            expectError(try await client.call(.get, "/nope", token: nil), .notFound, "NotFound")
            let mqtt = try await client.call(.get, "/mqtt", token: nil)
            expectError(mqtt, .init(code: 426), "UpgradeRequired")
            #expect(mqtt.headers[.upgrade] == "websocket")
        }
    }

    @Test("H18: over the registry rate, 429 ThrottlingException with Retry-After; tokens refill with time")
    func throttling() async throws {
        let nanos = Atomic<UInt64>(1_000_000_000)
        // 60 per minute: one per second, bursts of 10.
        let hub = try await TestHub.make(registryRate: 60, clock: { nanos.load(ordering: .relaxed) })
        try await hub.withClient { client in
            for _ in 0..<10 {
                #expect(try await client.call(.get, "/devices", token: hub.token()).status == .ok)
            }
            let throttled = try await client.call(.get, "/devices", token: hub.token())
            expectError(throttled, .tooManyRequests, "ThrottlingException")
            #expect(throttled.azureError?.code == 429001)
            #expect(throttled.headers[.retryAfter] == "1")
            // Unauthenticated calls do not spend the budget and are not throttled.
            expectError(try await client.call(.get, "/devices", token: nil), .unauthorized, "IotHubUnauthorizedAccess")
            nanos.add(2_000_000_000, ordering: .relaxed)
            #expect(try await client.call(.get, "/devices", token: hub.token()).status == .ok)
        }
    }

    @Test("the throttle's burst is a sixth of the per-minute rate, at least 10; 0 turns it off")
    func throttleShape() throws {
        let clock: @Sendable () -> UInt64 = { 5 }
        let big = RequestThrottle(perMinute: 600, clock: clock)
        for _ in 0..<100 { try big.admit() }
        #expect(throws: APIError.self) { try big.admit() }
        let off = RequestThrottle(perMinute: 0, clock: clock)
        for _ in 0..<10_000 { try off.admit() }
    }
}
