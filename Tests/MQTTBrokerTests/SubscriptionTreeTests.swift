@testable import MQTTBroker
import MQTTCodec
import Testing

/// The topic tree against a slow matcher written straight from the spec (§4.7).
@Suite("Subscription tree")
struct SubscriptionTreeTests {
    /// Reference: does `filter` match `topic`? [MQTT-4.7.1-*], [MQTT-4.7.2-1]
    static func referenceMatches(_ filter: String, _ topic: String) -> Bool {
        let f = filter.split(separator: "/", omittingEmptySubsequences: false)
        let t = topic.split(separator: "/", omittingEmptySubsequences: false)
        if topic.hasPrefix("$") && (f[0] == "+" || f[0] == "#") { return false }
        var i = 0
        while i < f.count {
            if f[i] == "#" { return true }
            if i >= t.count { return false }
            if f[i] != "+" && f[i] != t[i] { return false }
            i += 1
        }
        return i == t.count
    }

    func filter(_ raw: String) throws -> MQTTTopicFilter { try MQTTTopic.parseFilter(raw) }

    static let filters = ["#", "+", "a", "a/#", "a/+", "a/b", "a/+/c", "+/b/#", "a/b/c", "+/+", "/", "/+", "$SYS/#", "$SYS/+", "+/#", "a//c", "a/+/+/#"]
    static let topics = ["a", "a/b", "a/b/c", "a/x/c", "b", "/", "/a", "a//c", "$SYS/x", "$SYS", "x/b/y/z", "a/b/c/d"]

    @Test("every (filter, topic) pair matches exactly as the reference says")
    func matchesReference() throws {
        for f in Self.filters {
            var tree = SubscriptionTree()
            let session = Session(clientID: "s", protocolVersion: .v5, expiryInterval: 0)
            tree.insert(try filter(f), subscriber: Subscriber(session: session, options: .init(), identifier: nil))
            for t in Self.topics {
                var result: [SubscriptionMatch] = []
                tree.match(t, into: &result, isOnline: { _ in true })
                #expect((result.count == 1) == Self.referenceMatches(f, t), "filter \(f) topic \(t)")
            }
        }
    }

    @Test("random filters and topics from a small alphabet agree with the reference")
    func randomAgainstReference() throws {
        var rng = SystemRandomNumberGenerator()
        let levels = ["a", "b", "", "+", "#", "$x"]
        for _ in 0..<2000 {
            let fl = (0..<Int.random(in: 1...4, using: &rng)).map { _ in levels.randomElement(using: &rng)! }
            let rawFilter = fl.joined(separator: "/")
            guard let parsed = try? filter(rawFilter) else { continue }
            let tl = (0..<Int.random(in: 1...4, using: &rng)).map { _ in ["a", "b", "", "$x"].randomElement(using: &rng)! }
            let topic = tl.joined(separator: "/")
            guard (try? MQTTTopic.validateName(topic)) != nil else { continue }
            var tree = SubscriptionTree()
            let session = Session(clientID: "s", protocolVersion: .v5, expiryInterval: 0)
            tree.insert(parsed, subscriber: Subscriber(session: session, options: .init(), identifier: nil))
            var result: [SubscriptionMatch] = []
            tree.match(topic, into: &result, isOnline: { _ in true })
            #expect((result.count == 1) == Self.referenceMatches(rawFilter, topic), "filter \(rawFilter) topic \(topic)")
        }
    }

    @Test("overlapping subscriptions of one session merge: highest QoS, all identifiers")
    func overlapMerge() throws {
        var tree = SubscriptionTree()
        let s = Session(clientID: "s", protocolVersion: .v5, expiryInterval: 0)
        tree.insert(try filter("a/#"), subscriber: Subscriber(session: s, options: .init(qos: .atMostOnce), identifier: 1))
        tree.insert(try filter("a/+"), subscriber: Subscriber(session: s, options: .init(qos: .exactlyOnce), identifier: 2))
        var result: [SubscriptionMatch] = []
        tree.match("a/b", into: &result, isOnline: { _ in true })
        #expect(result.count == 1)
        #expect(result.first?.qos == .exactlyOnce)
        #expect(result.first?.identifiers.sorted() == [1, 2])
    }

    @Test("shared groups: round-robin among online members, one delivery per group")
    func sharedGroups() throws {
        var tree = SubscriptionTree()
        let a = Session(clientID: "a", protocolVersion: .v5, expiryInterval: 0)
        let b = Session(clientID: "b", protocolVersion: .v5, expiryInterval: 0)
        let c = Session(clientID: "c", protocolVersion: .v5, expiryInterval: 0)
        for s in [a, b] { tree.insert(try filter("$share/g1/t"), subscriber: Subscriber(session: s, options: .init(), identifier: nil)) }
        tree.insert(try filter("$share/g2/t"), subscriber: Subscriber(session: c, options: .init(), identifier: nil))
        var picks: [String] = []
        for _ in 0..<4 {
            var result: [SubscriptionMatch] = []
            tree.match("t", into: &result, isOnline: { _ in true })
            #expect(result.count == 2)
            picks.append(contentsOf: result.map(\.session.clientID).filter { $0 != "c" })
        }
        #expect(picks.sorted() == ["a", "a", "b", "b"])
        // Offline members are skipped while an online one exists.
        for _ in 0..<3 {
            var result: [SubscriptionMatch] = []
            tree.match("t", into: &result, isOnline: { $0 !== a })
            #expect(result.contains { $0.session === b })
        }
    }

    @Test("removing subscriptions prunes the tree and keeps the count right")
    func removal() throws {
        var tree = SubscriptionTree()
        let s = Session(clientID: "s", protocolVersion: .v5, expiryInterval: 0)
        let raw = ["a/b/c", "a/+/c", "a/#", "$share/g/a/b"]
        for f in raw { tree.insert(try filter(f), subscriber: Subscriber(session: s, options: .init(), identifier: nil)) }
        #expect(tree.count == 4)
        let replaced = tree.insert(try filter("a/#"), subscriber: Subscriber(session: s, options: .init(qos: .atLeastOnce), identifier: nil))
        #expect(replaced)
        #expect(tree.count == 4)
        for f in raw {
            let removed = tree.remove(try filter(f), session: s)
            #expect(removed)
        }
        let again = tree.remove(try filter("a/b/c"), session: s)
        #expect(!again)
        #expect(tree.count == 0)
        var result: [SubscriptionMatch] = []
        tree.match("a/b/c", into: &result, isOnline: { _ in true })
        #expect(result.isEmpty)
    }

    @Test("a 32-level topic with subscriptions at every depth matches without recursion")
    func deepTopics() throws {
        var tree = SubscriptionTree()
        let s = Session(clientID: "s", protocolVersion: .v5, expiryInterval: 0)
        let levels = (0..<32).map { _ in "x" }
        for depth in 1...32 {
            tree.insert(try filter(levels.prefix(depth).joined(separator: "/") + (depth < 32 ? "/#" : "")), subscriber: Subscriber(session: s, options: .init(), identifier: UInt32(depth)))
        }
        var result: [SubscriptionMatch] = []
        tree.match(levels.joined(separator: "/"), into: &result, isOnline: { _ in true })
        #expect(result.count == 1)
        #expect(result[0].identifiers.count == 32)
    }
}

@Suite("Retained store")
struct RetainedStoreTests {
    func message(_ topic: String) -> ApplicationMessage {
        ApplicationMessage(topic: topic, payload: .init(string: topic), qos: .atMostOnce, retain: true)
    }

    @Test("wildcard lookups follow the matching rules, including `$` topics and `a/#` matching `a`")
    func matching() {
        var store = RetainedStore()
        for t in ["a", "a/b", "a/b/c", "b/b", "$SYS/x", "/a"] { store.set(t, message(t)) }
        func topics(_ f: String) -> [String] { store.matching(f).map(\.topic).sorted() }
        #expect(topics("#") == ["/a", "a", "a/b", "a/b/c", "b/b"])
        #expect(topics("a/#") == ["a", "a/b", "a/b/c"])
        #expect(topics("+/b") == ["a/b", "b/b"])
        #expect(topics("$SYS/#") == ["$SYS/x"])
        #expect(topics("+/+") == ["/a", "a/b", "b/b"])
        #expect(topics("a/b") == ["a/b"])
    }

    @Test("clearing removes the message and empty nodes; the limit refuses new topics only")
    func clearAndLimit() {
        var store = RetainedStore()
        let first = store.set("x/y", message("x/y"), limit: 1)
        let second = store.set("x/z", message("x/z"), limit: 1)
        let replaced = store.set("x/y", message("x/y"), limit: 1)  // replacing is fine at the limit
        #expect(first && !second && replaced)
        store.set("x/y", nil)
        #expect(store.count == 0)
        #expect(store.all().isEmpty)
        #expect(store.matching("#").isEmpty)
    }
}
