import HubCore
import HubTwins
import Testing

@Suite("Twin validation")
struct TwinValidationTests {
    /// A desired patch with one member `key` set to 1.
    static func patch(key: String) -> JSONValue {
        var desired = JSONObject()
        desired[key] = .int(1)
        return .object(JSONObject(["properties": .object(JSONObject(["desired": .object(desired)]))]))
    }

    static func patch(value: JSONValue) -> JSONValue {
        .object(JSONObject(["properties": .object(JSONObject(["desired": .object(JSONObject(["k": value]))]))]))
    }

    /// `{"l1":{"l2":…{"l<n>":1}}}`: `n - 1` objects below the root.
    static func nested(_ levels: Int) -> JSONValue {
        var value = JSONValue.int(1)
        for level in stride(from: levels, through: 2, by: -1) { value = .object(JSONObject(["l\(level)": value])) }
        return value
    }

    @Test("keys: up to 1 KB of UTF-8, no control characters, no '.', '$' or space", arguments: [
        ("plain", true), ("CaseSensitive", true), ("ключ", true), ("#hash", true), ("a-b_c:d", true), ("emoji🚁", true),
        (String(repeating: "k", count: 1024), true), (String(repeating: "é", count: 512), true),
        (String(repeating: "k", count: 1025), false), (String(repeating: "é", count: 513), false),
        ("a.b", false), ("a$b", false), ("$other", false), ("a b", false), ("tab\tkey", false), ("nul\u{0}", false), ("del\u{7F}", false),
        ("c1\u{85}", false), ("c1\u{9F}", false), ("", false),
    ])
    func keys(key: String, valid: Bool) throws {
        let twin = T.emptyTwin()
        if valid {
            #expect(try twin.applyingServicePatch(Self.patch(key: key), at: T.t1).twin.desired.properties[key] == .int(1))
        } else {
            let error = T.expectError(.invalid) { try twin.applyingServicePatch(Self.patch(key: key), at: T.t1) }
            if !key.isEmpty { #expect(error.map { !$0.message.contains(key) } == true, "messages never echo keys") }
        }
    }

    @Test("keys are checked at every depth, in tags and in reported properties too")
    func keysEverywhere() {
        let twin = T.emptyTwin()
        T.expectError(.invalid) { try twin.applyingServicePatch(T.json(#"{"tags":{"ok":{"bad.key":1}}}"#), at: T.t1) }
        T.expectError(.invalid) { try twin.applyingServicePatch(T.json(#"{"tags":{"ok":[{"bad key":1}]}}"#), at: T.t1) }
        T.expectError(.invalid) { try twin.applyingReportedPatch(T.json(#"{"$x":1}"#), at: T.t1) }
    }

    @Test("values: strings up to 4 KB, integers within ±2^52, finite numbers, no null in arrays", arguments: [
        (JSONValue.string(String(repeating: "s", count: 4096)), true),
        (.string(String(repeating: "s", count: 4097)), false),
        (.string(String(repeating: "ü", count: 2049)), false),
        (.number("4503599627370495"), true), (.number("-4503599627370496"), true),
        (.number("4503599627370496"), false), (.number("-4503599627370497"), false),
        (.number("99999999999999999999999"), false), (.number("0.2"), true), (.number("1e300"), true),
        (.number("1e400"), false), (.bool(true), true),
        (.array([.int(1), .string("a"), .object(JSONObject(["k": .int(1)]))]), true),
        (.array([.int(1), .null]), false),
        (.array([.string(String(repeating: "s", count: 4097))]), false),
    ])
    func values(value: JSONValue, valid: Bool) throws {
        let twin = T.emptyTwin()
        if valid {
            #expect(try twin.applyingServicePatch(Self.patch(value: value), at: T.t1).changed)
        } else {
            T.expectError(.invalid) { try twin.applyingServicePatch(Self.patch(value: value), at: T.t1) }
        }
    }

    @Test("depth: ten objects below a section's root at most")
    func depth() throws {
        let twin = T.emptyTwin()
        // nested(11) = {"l2":{…{"l11":1}}}: under key "k" that makes ten objects below the root.
        #expect(try twin.applyingServicePatch(Self.patch(value: Self.nested(11)), at: T.t1).changed)
        T.expectError(.invalid) { try twin.applyingServicePatch(Self.patch(value: Self.nested(12)), at: T.t1) }
        T.expectError(.invalid) { try twin.applyingReportedPatch(.object(JSONObject(["k": Self.nested(12)])), at: T.t1) }
        // Arrays count as a level.
        var arrays = JSONValue.int(1)
        for _ in 0..<11 { arrays = .array([arrays]) }
        T.expectError(.invalid) { try twin.applyingServicePatch(Self.patch(value: arrays), at: T.t1) }
    }

    @Test("sizes count keys plus values: strings by bytes, numbers 8, booleans 4")
    func sizeFormula() {
        #expect(TwinSize.of(T.object(#"{"a":"xyz","b":1,"c":true,"d":{"e":2.5},"f":[1,"gh"]}"#)) == 1 + 3 + 1 + 8 + 1 + 4 + 1 + 1 + 8 + 1 + 8 + 2)
        #expect(TwinSize.of(T.object(#"{"é":"ü"}"#)) == 4)
    }

    /// A section of exactly `size` bytes: one key `"k"` and a string, or several for large sizes.
    static func section(ofSize size: Int) -> JSONObject {
        var object = JSONObject()
        var remaining = size
        var index = 0
        while remaining > 0 {
            let key = "k\(index)"
            let value = min(remaining - key.utf8.count, 4000)
            object[key] = .string(String(repeating: "v", count: value))
            remaining -= key.utf8.count + value
            index += 1
        }
        #expect(TwinSize.of(object) == size)
        return object
    }

    @Test("section limits: tags 8 KiB, desired 32 KiB, reported 32 KiB", arguments: [
        (TwinSectionName.tags, 8192), (.desired, 32768), (.reported, 32768),
    ])
    func sectionLimits(section: TwinSectionName, limit: Int) throws {
        let twin = T.emptyTwin()
        func apply(_ content: JSONObject) throws(TwinError) -> TwinUpdate {
            switch section {
            case .tags: try twin.applyingServicePatch(.object(JSONObject(["tags": .object(content)])), at: T.t1)
            case .desired:
                try twin.applyingServicePatch(
                    .object(JSONObject(["properties": .object(JSONObject(["desired": .object(content)]))])), at: T.t1)
            case .reported: try twin.applyingReportedPatch(.object(content), at: T.t1)
            }
        }
        #expect(try apply(Self.section(ofSize: limit)).changed)
        let error = T.expectError(.tooLarge) { try apply(Self.section(ofSize: limit + 1)) }
        #expect(error?.code.httpStatus == 400)
    }

    @Test("a patch that would overflow a section is refused and the twin stays as it was")
    func overflowLeavesTwinAlone() throws {
        let full = try T.emptyTwin().applyingReportedPatch(.object(Self.section(ofSize: 32760)), at: T.t1).twin
        let before = full
        T.expectError(.tooLarge) { try full.applyingReportedPatch(T.json(#"{"more":"123456789"}"#), at: T.t2) }
        #expect(full == before)
        // Deleting makes room again, in the same patch as an addition.
        let update = try full.applyingReportedPatch(T.json(#"{"k0":null,"more":"123456789"}"#), at: T.t2)
        #expect(update.twin.reported.properties["more"] == .string("123456789"))
    }

    @Test("a replacement is validated like a patch, without nulls")
    func replacementValidation() {
        let twin = T.emptyTwin()
        T.expectError(.invalid) { try twin.replacingFromService(T.json(#"{"tags":{"a":null}}"#), at: T.t1) }
        T.expectError(.invalid) { try twin.replacingFromService(T.json(#"{"tags":{"a.b":1}}"#), at: T.t1) }
        T.expectError(.tooLarge) {
            try twin.replacingFromService(.object(JSONObject(["tags": .object(Self.section(ofSize: 8193))])), at: T.t1)
        }
    }

    @Test("error codes map onto Azure's")
    func codes() {
        #expect(TwinError.Code.invalid.azureCode == 400004)
        #expect(TwinError.Code.preconditionFailed.azureCode == 412001)
        #expect(TwinError.Code.preconditionFailed.httpStatus == 412)
        #expect(TwinError.Code.notFound.azureName == "DeviceNotFound")
    }
}
