import HubCore

/// A user's ACL rules evaluated for one connection (client id and username substituted).
public struct TopicACL: Sendable {
    public var rules: [ACLRule]
    public var clientID: String
    public var username: String

    public init(rules: [ACLRule], clientID: String, username: String) {
        self.rules = rules
        self.clientID = clientID
        self.username = username
    }

    /// First matching rule decides; no match denies. For `.publish`, `topic` is a topic name matched
    /// against each pattern; for `.subscribe`, `topic` is a filter that must lie within the pattern
    /// (every topic it can match, the pattern matches too). `%c`/`%u` are substituted as whole levels; a
    /// rule needing a substitution never matches when the value contains `/`, `+`, `#` or is empty
    /// (CVE-2017-7650 class).
    ///
    /// For `.subscribe`, a *deny* rule matches when its pattern and the filter can match a common
    /// topic (not only when the filter lies within it): otherwise `deny secret/#` followed by
    /// `allow #` would let a client subscribe to `#` and receive `secret/…`. With this reading, a
    /// granted filter only ever delivers topics that would each be granted on their own.
    ///
    /// Also refused: an invalid topic name or filter (empty, NUL, misplaced wildcards), and a value
    /// containing NUL. Rules whose pattern is not a valid filter never match. A `$share/{group}/`
    /// prefix is not stripped: pass the underlying filter to check the topics a shared subscription
    /// delivers.
    public func allows(_ action: TopicAction, _ topic: String) -> Bool {
        let requested: TopicLevels.Levels?
        switch action {
        case .publish: requested = TopicLevels.name(topic)
        case .subscribe: requested = TopicLevels.filter(topic)
        }
        guard let requested else { return false }
        let needed: ACLRule.Actions = action == .publish ? .publish : .subscribe
        for rule in rules where rule.actions.contains(needed) {
            guard let pattern = substitutedPattern(rule.pattern) else { continue }
            let matched: Bool
            switch (action, rule.allow) {
            case (.publish, _): matched = TopicLevels.matches(filter: pattern, topic: requested)
            case (.subscribe, true): matched = TopicLevels.contains(pattern: pattern, filter: requested)
            case (.subscribe, false): matched = TopicLevels.intersects(pattern: pattern, filter: requested)
            }
            if matched { return rule.allow }
        }
        return false
    }

    /// The pattern's levels with whole-level `%c` and `%u` replaced; nil when a needed value is
    /// unusable or the result is not a valid filter. `%c` inside a longer level is literal text.
    func substitutedPattern(_ pattern: String) -> TopicLevels.Levels? {
        guard var levels = TopicLevels.filter(pattern) else { return nil }
        for index in levels.indices {
            let value: String
            if levels[index].utf8Equals("%c") {
                value = clientID
            } else if levels[index].utf8Equals("%u") {
                value = username
            } else {
                continue
            }
            guard Self.isSubstitutable(value) else { return nil }
            levels[index] = value[...]
        }
        return levels
    }

    /// A value may stand for one level: non-empty, no `/`, `+`, `#` or NUL.
    static func isSubstitutable(_ value: String) -> Bool {
        !value.isEmpty && !value.utf8.contains { $0 == 0x2F || $0 == 0x2B || $0 == 0x23 || $0 == 0 }
    }
}
