import HubCore
import Testing

@Suite("Percent-encoding")
struct PercentEncodingTests {
    @Test("decoding: %XX to bytes, + stays +, malformed escapes and invalid UTF-8 refused")
    func decode() {
        #expect(PercentEncoding.decode("a%23b%2Fc+d".utf8) == "a#b/c+d")
        #expect(PercentEncoding.decode("%".utf8) == nil)
        #expect(PercentEncoding.decode("%4".utf8) == nil)
        #expect(PercentEncoding.decode("%zz".utf8) == nil)
        #expect(PercentEncoding.decode("%C3%28".utf8) == nil)
        #expect(PercentEncoding.decodeBytes("%C3%28".utf8) == [0xC3, 0x28])
        #expect(PercentEncoding.decode("%24iothub".utf8) == "$iothub")
    }

    @Test("encoding keeps only RFC 3986 unreserved characters, upper-case hex, like quote(s, safe='')")
    func encode() {
        #expect(PercentEncoding.encode("a-b_c.d~e") == "a-b_c.d~e")
        #expect(PercentEncoding.encode("/devices/d 1?x=+&é") == "%2Fdevices%2Fd%201%3Fx%3D%2B%26%C3%A9")
        var out: [UInt8] = Array("k=".utf8)
        PercentEncoding.encode("a/b", into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "k=a%2Fb")
        for text in ["", "plain", "%", "a+b c", "ü/€"] {
            #expect(PercentEncoding.decode(PercentEncoding.encode(text).utf8) == text)
        }
    }
}
