import HubCore
import Testing

@testable import HubHTTPAPI

@Suite("strict JSON")
struct JSONTests {
    @Test("round trip keeps member order, escapes and exact numbers")
    func roundTrip() throws {
        let text = #"{"b":1,"a":[true,false,null,-0.5e+3,"x\"\\\/\n\u00e9\ud83d\ude00"],"c":{},"d":[],"n":12345678901234567890}"#
        let value = try JSONParser.parse(Array(text.utf8))
        #expect(value["b"] == .number("1"))
        #expect(value["a"]?.array?[4] == .string("x\"\\/\né😀"))
        #expect(value["n"] == .number("12345678901234567890"))
        #expect(JSONWriter.string(value) == #"{"b":1,"a":[true,false,null,-0.5e+3,"x\"\\/\né😀"],"c":{},"d":[],"n":12345678901234567890}"#)
        #expect(JSONWriter.string(.string("\u{01}\t")) == #""\u0001\t""#)
    }

    @Test(
        "malformed documents are refused with a reason",
        arguments: [
            "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "'x'", "01", "1.", ".5", "-", "1e", "+1", "NaN",
            "tru", "nul", "\"unterminated", "\"\u{01}\"", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "[1] [2]",
            "{\"a\":1,\"a\":2}", "{\"a\":{\"b\":1,\"b\":1}}",
        ])
    func malformed(_ text: String) {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test("invalid UTF-8 in a string is refused")
    func invalidUTF8() {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test("nesting 10,000 deep is refused without recursing that deep (H9)")
    func deepNesting() {
        let deep = Array(repeating: UInt8(ascii: "["), count: 10_000) + Array(repeating: UInt8(ascii: "]"), count: 10_000)
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(deep) }
        let ok = Array(repeating: UInt8(ascii: "["), count: JSONParser.maximumDepth) + Array(repeating: UInt8(ascii: "]"), count: JSONParser.maximumDepth)
        #expect((try? JSONParser.parse(ok)) != nil)
    }

    @Test("a huge exponent is kept as text and refused where an integer is expected (H9)")
    func hugeNumber() throws {
        let value = try JSONParser.parse(Array(#"{"top":1e999999}"#.utf8))
        let reader = try JSONReader(value)
        #expect(throws: APIError.self) { try reader.int("top") }
    }

    @Test("the reader refuses unknown members and wrong types, naming only safe member names")
    func reader() throws {
        let reader = try JSONReader(try JSONParser.parse(Array(#"{"deviceId":5,"status":"enabled","x y":1}"#.utf8)))
        #expect(throws: APIError.invalid("unknown field (name not shown)")) { try reader.allowOnly(["deviceId", "status"]) }
        #expect(throws: APIError.invalid("deviceId must be a string")) { try reader.string("deviceId") }
        #expect(try reader.string("status") == "enabled")
        #expect(try reader.string("missing") == nil)
    }

    @Test("times are ISO 8601 UTC with milliseconds; unset is Azure's sentinel")
    func times() {
        #expect(Timestamp.azureText(nil) == "0001-01-01T00:00:00Z")
        #expect(Timestamp(rawValue: 0).iso8601 == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(rawValue: 1_710_410_089_653).iso8601 == "2024-03-14T09:54:49.653Z")
        #expect(Timestamp(rawValue: 951_782_400_000).iso8601 == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp(rawValue: -1).iso8601 == "1969-12-31T23:59:59.999Z")
    }

}
