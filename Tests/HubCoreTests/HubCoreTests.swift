import HubCore
import Testing

@Suite("HubCore values")
struct HubCoreTests {
    @Test("device ids follow Azure's rules", arguments: [
        ("dev1", true), ("a-b:c.d+e%f_g#h*i?j!k(l)m,n=o@p;q$r's", true), (String(repeating: "x", count: 128), true),
        ("", false), (String(repeating: "x", count: 129), false), ("a/b", false), ("a b", false), ("caf\u{E9}", false), ("a\u{0}", false),
    ])
    func deviceIDs(id: String, valid: Bool) {
        #expect((DeviceID(rawValue: id) != nil) == valid)
    }

    @Test("base64 round trips and rejects malformed input")
    func base64() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        for bad in ["Zm9", "Zm=v", "Z===", "Zm9v!mFy", "=Zm8"] { #expect(Base64.decode(bad) == nil, "\(bad)") }
    }

    @Test("shared access keys: 16…64 bytes, never printed")
    func keys() throws {
        let key = SharedAccessKey.generate()
        #expect(key.bytes.count == 32)
        #expect("\(key)" == "<redacted key>")
        #expect(throws: SharedAccessKey.KeyError.badLength) { try SharedAccessKey(base64: Base64.encode([UInt8](repeating: 1, count: 8))) }
        #expect(throws: SharedAccessKey.KeyError.notBase64) { try SharedAccessKey(base64: "not base64!") }
        #expect(try SharedAccessKey(base64: key.base64) == key)
    }

    @Test("access rights: RegistryWrite implies RegistryRead; names parse")
    func rights() {
        #expect(AccessRights.registryWrite.satisfies(.registryRead))
        #expect(!AccessRights.registryRead.satisfies(.registryWrite))
        #expect(AccessRights(names: "RegistryRead, ServiceConnect") == [.registryRead, .serviceConnect])
        #expect(AccessRights(names: "Nope") == nil)
        #expect(Set(AccessPolicy.defaults().map(\.name)) == ["iothubowner", "service", "device", "deviceConnect", "registryRead", "registryReadWrite"])
    }

    @Test("CIDR and IP filter: first match wins, IPv4-mapped IPv6 matches IPv4 rules")
    func ipFilter() throws {
        let filter = IPFilter(rules: [
            try #require(IPFilter.parseRule("deny 10.1.0.0/16")),
            try #require(IPFilter.parseRule("allow 10.0.0.0/8")),
            try #require(IPFilter.parseRule("allow 2001:db8::/32")),
        ], defaultAllow: false)
        #expect(filter.allows([10, 2, 3, 4]))
        #expect(!filter.allows([10, 1, 3, 4]))
        #expect(!filter.allows([192, 168, 0, 1]))
        #expect(filter.allows(try #require(IPAddressParser.parse("::ffff:10.9.9.9"))))
        #expect(filter.allows(try #require(IPAddressParser.parse("2001:db8:1::5"))))
        #expect(!filter.allows(try #require(IPAddressParser.parse("2001:db9::5"))))
        for bad in ["10.0.0.0/33", "1.2.3", "1.2.3.256", "::1::2", "allow", "10.0.0.0/-1"] { #expect(CIDR(bad) == nil, "\(bad)") }
        #expect(CIDR("10.1.2.3/8")?.description == "10.0.0.0/8")
        #expect(IPAddressParser.parse("::1") == [UInt8](repeating: 0, count: 15) + [1])
    }

    @Test("token bucket: burst, refill and retry-after")
    func bucket() {
        var b = TokenBucket(ratePerSecond: 10, burst: 2)
        #expect(b.take(nowNanos: 0) == nil)
        #expect(b.take(nowNanos: 0) == nil)
        let wait = b.take(nowNanos: 0)
        #expect(wait != nil && abs(wait! - 0.1) < 1e-9)
        #expect(b.take(nowNanos: 100_000_000) == nil)
        #expect(b.take(nowNanos: 100_000_000) != nil)
    }
}

@Suite("Key hygiene")
struct KeyHygieneTests {
    @Test("dump() of a key shows no bytes; equal keys compare equal, different ones not")
    func redaction() throws {
        let key = try SharedAccessKey(bytes: Array(repeating: 0xAB, count: 32))
        var dumped = ""
        dump(key, to: &dumped)
        #expect(!dumped.contains("171") && dumped.contains("<redacted>"))
        #expect(key == (try SharedAccessKey(bytes: Array(repeating: 0xAB, count: 32))))
        #expect(key != (try SharedAccessKey(bytes: Array(repeating: 0xAB, count: 31) + [0xAC])))
        #expect(key != (try SharedAccessKey(bytes: Array(repeating: 0xAB, count: 16))))
    }
}
