import HubTestKit
import MQTTCodec
import PropertyBased
import Testing

@Suite("Topic rules")
struct TopicTests {
    /// M25 and the spec's examples of invalid filters; CVE-2025-68699 for the `$share/` forms.
    @Test("invalid filters are refused with 0x8F", arguments: [
        "a/#/b", "a+", "#a", "a/b#", "+a/b", "a/++", "##", "$share/ab", "$share//t", "$share/g/", "$share/",
        "$share/g+/t", "$share/#/t", "$share/g/a/#/b", "",
    ])
    func invalidFilter(_ filter: String) {
        do {
            let parsed = try MQTTTopic.parseFilter(filter)
            Issue.record("accepted \(parsed)")
        } catch {
            #expect(error.code == .topicFilterInvalid)
            #expect(error.reasonCode == .topicFilterInvalid)
        }
    }

    @Test("valid filters parse into share name and filter", arguments: [
        ("a/b", nil, "a/b", false), ("#", nil, "#", true), ("+", nil, "+", true), ("a/+/c/#", nil, "a/+/c/#", true),
        ("/", nil, "/", false), ("+/+", nil, "+/+", true), ("$SYS/#", nil, "$SYS/#", true), ("$share", nil, "$share", false),
        ("$share/g/a/+", "g", "a/+", true), ("$share/grp/#", "grp", "#", true), ("$share/g//", "g", "/", false),
        ("sport/tennis/+", nil, "sport/tennis/+", true), ("é/€", nil, "é/€", false),
    ] as [(String, String?, String, Bool)])
    func validFilter(raw: String, shareName: String?, filter: String, hasWildcards: Bool) throws {
        let parsed = try MQTTTopic.parseFilter(raw)
        #expect(parsed == MQTTTopicFilter(raw: raw, shareName: shareName, filter: filter, hasWildcards: hasWildcards))
    }

    @Test("topic names", arguments: [("a", true), ("a/b/c", true), ("/", true), ("$SYS/x", true), ("", false), ("a/+", false), ("#", false), ("a#", false)])
    func names(name: String, valid: Bool) {
        do {
            try MQTTTopic.validateName(name)
            #expect(valid)
        } catch {
            #expect(!valid)
            #expect(error.code == .topicNameInvalid)
            #expect(error.reasonCode == .topicNameInvalid)
        }
    }

    @Test("M21 / CVE-2019-11779: 65,000 slashes are refused in one pass, without recursion")
    func manySlashes() {
        let slashes = String(repeating: "/", count: 65_000)
        #expect(throws: MQTTCodecError.self) { try MQTTTopic.parseFilter(slashes) }
        #expect(throws: MQTTCodecError.self) { try MQTTTopic.validateName(slashes) }
        #expect(throws: MQTTCodecError.self) { try MQTTTopic.parseFilter("$share/g/" + slashes) }
        // With the cap lifted the same input is valid and still handled iteratively.
        #expect((try? MQTTTopic.parseFilter(slashes, maximumLevels: .max)) != nil)
    }

    @Test("the level cap counts levels, not separators")
    func levelCap() throws {
        let thirtyTwo = Array(repeating: "a", count: 32).joined(separator: "/")
        try MQTTTopic.validateName(thirtyTwo)
        _ = try MQTTTopic.parseFilter(thirtyTwo)
        #expect(throws: MQTTCodecError.self) { try MQTTTopic.validateName(thirtyTwo + "/a") }
        #expect(throws: MQTTCodecError.self) { try MQTTTopic.parseFilter(thirtyTwo + "/#") }
    }

    // MARK: differential property tests against an obviously-correct reference

    /// Strings built from `a`, `/`, `+`, `#` and `$share/`, so every rule is hit often.
    static let topicStrings = Generator<String, Shrink.None<String>> { rng in
        var random = SplitMix64(state: rng.next())
        let tokens = ["a", "/", "+", "#", "$share/"]
        return (0..<Int.random(in: 0...9, using: &random)).map { _ in tokens.randomElement(using: &random)! }.joined()
    }

    static let referenceLevels = 4

    /// Spec §4.7 written the slow way: split into levels and look at each.
    static func referenceValidateName(_ name: String, maximumLevels: Int) -> Bool {
        !name.isEmpty && !name.contains("+") && !name.contains("#")
            && name.split(separator: "/", omittingEmptySubsequences: false).count <= maximumLevels
    }

    static func referenceParseFilter(_ raw: String, maximumLevels: Int) -> MQTTTopicFilter? {
        guard !raw.isEmpty else { return nil }
        var shareName: String?
        var filter = raw
        if raw.hasPrefix("$share/") {
            let rest = raw.dropFirst("$share/".count)
            guard let slash = rest.firstIndex(of: "/") else { return nil }
            let group = String(rest[..<slash])
            guard !group.isEmpty, !group.contains("+"), !group.contains("#") else { return nil }
            filter = String(rest[rest.index(after: slash)...])
            guard !filter.isEmpty else { return nil }
            shareName = group
        }
        let levels = filter.split(separator: "/", omittingEmptySubsequences: false)
        guard levels.count <= maximumLevels else { return nil }
        for (index, level) in levels.enumerated() {
            if level.contains("#") && (level != "#" || index != levels.count - 1) { return nil }
            if level.contains("+") && level != "+" { return nil }
        }
        return MQTTTopicFilter(raw: raw, shareName: shareName, filter: filter, hasWildcards: filter.contains("+") || filter.contains("#"))
    }

    @Test("validateName agrees with the reference")
    func nameMatchesReference() async {
        await propertyCheck(count: 2_000, input: Self.topicStrings) { name in
            let accepted = (try? MQTTTopic.validateName(name, maximumLevels: Self.referenceLevels)) != nil
            #expect(accepted == Self.referenceValidateName(name, maximumLevels: Self.referenceLevels), "\(name)")
        }
    }

    @Test("parseFilter agrees with the reference")
    func filterMatchesReference() async {
        await propertyCheck(count: 2_000, input: Self.topicStrings) { raw in
            let parsed = try? MQTTTopic.parseFilter(raw, maximumLevels: Self.referenceLevels)
            #expect(parsed == Self.referenceParseFilter(raw, maximumLevels: Self.referenceLevels), "\(raw)")
        }
    }
}
