import HubTestKit
import HubAuth
import HubCore
import PropertyBased
import Testing

@Suite("Topic ACL")
struct TopicACLTests {
    func acl(_ rules: [ACLRule], client: String = "c1", user: String = "u1") -> TopicACL {
        TopicACL(rules: rules, clientID: client, username: user)
    }

    func allow(_ pattern: String, _ actions: ACLRule.Actions = .all) -> ACLRule { ACLRule(pattern: pattern, actions: actions) }
    func deny(_ pattern: String, _ actions: ACLRule.Actions = .all) -> ACLRule { ACLRule(pattern: pattern, actions: actions, allow: false) }

    @Test("subscribe: the filter must lie within the pattern")
    func within() {
        let hash = acl([allow("a/#")])
        #expect(hash.allows(.subscribe, "a/+/c"))
        #expect(hash.allows(.subscribe, "a/#"))
        #expect(hash.allows(.subscribe, "a"))
        #expect(hash.allows(.subscribe, "a/b/c/d"))
        #expect(!hash.allows(.subscribe, "#"))
        #expect(!hash.allows(.subscribe, "+/b"))
        #expect(!hash.allows(.subscribe, "b/#"))

        let plus = acl([allow("a/+")])
        #expect(plus.allows(.subscribe, "a/b"))
        #expect(plus.allows(.subscribe, "a/+"))
        #expect(!plus.allows(.subscribe, "a/#"))
        #expect(!plus.allows(.subscribe, "a"))
        #expect(!plus.allows(.subscribe, "a/b/c"))

        let exact = acl([allow("a/b")])
        #expect(exact.allows(.subscribe, "a/b"))
        #expect(!exact.allows(.subscribe, "a/+"))
        #expect(!exact.allows(.subscribe, "a/#"))

        #expect(acl([allow("+/#")]).allows(.subscribe, "#"))
        #expect(acl([allow("#")]).allows(.subscribe, "+/+/x"))
    }

    @Test("publish: MQTT matching, $-topics not matched by leading wildcards")
    func publish() {
        #expect(acl([allow("a/+/c")]).allows(.publish, "a/b/c"))
        #expect(!acl([allow("a/+/c")]).allows(.publish, "a/b/c/d"))
        #expect(acl([allow("a/#")]).allows(.publish, "a"))
        #expect(!acl([allow("#")]).allows(.publish, "$SYS/x"))
        #expect(!acl([allow("+/x")]).allows(.publish, "$SYS/x"))
        #expect(acl([allow("$SYS/#")]).allows(.publish, "$SYS/x"))
        #expect(!acl([allow("#")]).allows(.subscribe, "$SYS/#"))
        #expect(acl([allow("$SYS/#")]).allows(.subscribe, "$SYS/+"))
        #expect(!acl([allow("#")]).allows(.publish, "a/+"))
        #expect(!acl([allow("#")]).allows(.publish, ""))
        #expect(!acl([allow("#")]).allows(.publish, "a\u{0}b"))
    }

    @Test("invalid filters and patterns never match")
    func invalid() {
        for filter in ["", "a/#/b", "a+", "#a", "a/b#", "x\u{0}"] {
            #expect(!acl([allow("#")]).allows(.subscribe, filter), "\(filter)")
        }
        #expect(!acl([allow("a/#/b")]).allows(.publish, "a/x/b"))
        #expect(!acl([allow("a+")]).allows(.publish, "a+"))
    }

    @Test("%c and %u are whole levels")
    func substitution() {
        let rules = acl([allow("clients/%c/#"), allow("users/%u/in", .publish)], client: "dev.1", user: "alice")
        #expect(rules.allows(.publish, "clients/dev.1/x"))
        #expect(rules.allows(.subscribe, "clients/dev.1/#"))
        #expect(!rules.allows(.publish, "clients/dev.2/x"))
        #expect(!rules.allows(.subscribe, "clients/+/#"))
        #expect(rules.allows(.publish, "users/alice/in"))
        #expect(!rules.allows(.subscribe, "users/alice/in"))
        #expect(!rules.allows(.publish, "users/%u/in"))
        // Only whole levels are substituted.
        let partial = acl([allow("x/%cz/%u%c")], client: "c", user: "u")
        #expect(partial.allows(.publish, "x/%cz/%u%c"))
        #expect(!partial.allows(.publish, "x/cz/uc"))
    }

    @Test("a rule needing an unusable value never matches", arguments: ["a/b", "+", "#", "", "a\u{0}", "a+", "#a", "/"])
    func unusableValues(_ value: String) {
        for rules in [acl([allow("clients/%c/#")], client: value), acl([allow("users/%u/#")], user: value)] {
            #expect(!rules.allows(.publish, "clients/\(value)/x"))
            #expect(!rules.allows(.publish, "clients/a/b/x"))
            #expect(!rules.allows(.subscribe, "clients/#"))
            #expect(!rules.allows(.publish, "users/\(value)/x"))
            #expect(!rules.allows(.subscribe, "users/#"))
        }
        // A deny rule with an unusable value does not match either; the next rule decides.
        #expect(acl([deny("clients/%c/#"), allow("clients/#")], client: value).allows(.publish, "clients/a/b/x"))
    }

    @Test("first matching rule decides; no match denies; actions are respected")
    func ordering() {
        let rules = acl([deny("a/secret"), allow("a/#"), allow("b/#", .subscribe)])
        #expect(!rules.allows(.publish, "a/secret"))
        #expect(rules.allows(.publish, "a/public"))
        #expect(!rules.allows(.publish, "b/x"))
        #expect(rules.allows(.subscribe, "b/x"))
        #expect(!rules.allows(.publish, "c"))
        #expect(!acl([]).allows(.subscribe, "#"))
    }

    @Test("a subscribe deny rule matches any overlapping filter")
    func denyOverlap() {
        let rules = acl([deny("secret/#"), allow("#")])
        #expect(!rules.allows(.subscribe, "#"))
        #expect(!rules.allows(.subscribe, "+/x"))
        #expect(!rules.allows(.subscribe, "secret"))
        #expect(rules.allows(.subscribe, "public/#"))
        #expect(rules.allows(.subscribe, "p/y"))
        let exact = acl([deny("a/b"), allow("#")])
        #expect(!exact.allows(.subscribe, "a/+"))
        #expect(!exact.allows(.subscribe, "+/b"))
        #expect(exact.allows(.subscribe, "a/c"))
        #expect(exact.allows(.subscribe, "a/b/c"))
    }

    // MARK: properties

    static let patternLevels = ["a", "b", "+", "$s", ""]
    static let topicLevels = ["a", "b", "$s"]
    /// Every topic of 1…5 levels over `topicLevels`.
    static let topics: [[String]] = {
        var all: [[String]] = []
        var frontier: [[String]] = [[]]
        for _ in 1...5 {
            frontier = frontier.flatMap { prefix in topicLevels.map { prefix + [$0] } }
            all += frontier
        }
        return all
    }()

    static func randomFilter(_ dice: inout Dice) -> String {
        var levels = (0..<dice.int(1...4)).map { _ in dice.pick(patternLevels) }
        if dice.bool(0.35) { levels[levels.count - 1] = "#" }
        return levels.joined(separator: "/")
    }

    @Test("property: an allowed subscribe filter only matches topics the pattern matches")
    func subscribeSoundness() async {
        let input = Dice.generator { dice in (Self.randomFilter(&dice), Self.randomFilter(&dice)) }
        await propertyCheck(count: 3_000, input: input) { pair in
            let (pattern, filter) = pair
            guard acl([allow(pattern)]).allows(.subscribe, filter) else { return }
            let f = ReferenceMatcher.levels(filter)
            let p = ReferenceMatcher.levels(pattern)
            for topic in Self.topics where ReferenceMatcher.matches(filter: f, topic: topic) {
                #expect(ReferenceMatcher.matches(filter: p, topic: topic), "pattern \(pattern) filter \(filter) topic \(topic)")
            }
        }
    }

    @Test("property: with allow and deny rules, a granted filter only delivers topics granted one by one; publish agrees with the reference")
    func rulesSoundness() async {
        let input = Dice.generator { dice in
            let rules = (0..<dice.int(1...3)).map { _ in ACLRule(pattern: Self.randomFilter(&dice), actions: .all, allow: dice.bool()) }
            return (rules, Self.randomFilter(&dice))
        }
        await propertyCheck(count: 2_000, input: input) { pair in
            let (rules, filter) = pair
            let list = acl(rules)
            for topic in Self.topics {
                let name = topic.joined(separator: "/")
                let expected = rules.first { ReferenceMatcher.matches(filter: ReferenceMatcher.levels($0.pattern), topic: topic) }?.allow ?? false
                #expect(list.allows(.publish, name) == expected, "rules \(rules) topic \(name)")
            }
            guard list.allows(.subscribe, filter) else { return }
            let f = ReferenceMatcher.levels(filter)
            for topic in Self.topics where ReferenceMatcher.matches(filter: f, topic: topic) {
                #expect(list.allows(.subscribe, topic.joined(separator: "/")), "rules \(rules) filter \(filter) topic \(topic)")
            }
        }
    }
}
