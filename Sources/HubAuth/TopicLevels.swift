/// MQTT topic-name and topic-filter arithmetic on `/`-separated levels, for access decisions
/// (MQTT 3.1.1 §4.7 / 5.0 §4.7). Levels are compared byte for byte.
///
/// HubAuth keeps its own copy rather than importing MQTTCodec: access control must not change
/// because the codec's matcher did, and the questions asked here ("is filter F within pattern P",
/// "can F and P ever match the same topic") are not ones a broker's matcher answers.
enum TopicLevels {
    typealias Levels = [Substring]

    static func split(_ text: String) -> Levels {
        text.split(separator: "/", omittingEmptySubsequences: false)
    }

    /// A valid topic name: non-empty, no `+`, `#` or NUL [MQTT-4.7.1-1], [MQTT-1.5.3-2].
    static func name(_ text: String) -> Levels? {
        guard !text.isEmpty, !text.utf8.contains(where: { $0 == 0x2B || $0 == 0x23 || $0 == 0 }) else { return nil }
        return split(text)
    }

    /// A valid topic filter: non-empty, no NUL, `+` only as a whole level, `#` only as the whole last
    /// level [MQTT-4.7.1-2], [MQTT-4.7.1-3].
    static func filter(_ text: String) -> Levels? {
        guard !text.isEmpty, !text.utf8.contains(0) else { return nil }
        let levels = split(text)
        for (index, level) in levels.enumerated() {
            if level.utf8.contains(0x23) && (!isMultiLevel(level) || index != levels.count - 1) { return nil }
            if level.utf8.contains(0x2B) && !isSingleLevel(level) { return nil }
        }
        return levels
    }

    static func isMultiLevel(_ level: Substring) -> Bool { level.utf8.elementsEqual(CollectionOfOne(0x23)) }
    static func isSingleLevel(_ level: Substring) -> Bool { level.utf8.elementsEqual(CollectionOfOne(0x2B)) }
    static func isWildcard(_ level: Substring) -> Bool { isMultiLevel(level) || isSingleLevel(level) }
    /// A literal first level beginning with `$`: leading wildcards never match such topics [MQTT-4.7.2-1].
    static func isDollar(_ level: Substring) -> Bool { level.utf8.first == 0x24 }

    /// Does `filter` match topic name `topic`? (Both already validated.)
    static func matches(filter: Levels, topic: Levels) -> Bool {
        if let first = topic.first, isDollar(first), let f = filter.first, isWildcard(f) { return false }
        var i = 0
        while i < filter.count {
            if isMultiLevel(filter[i]) { return true }  // also matches the parent level
            guard i < topic.count else { return false }
            if !isSingleLevel(filter[i]) && !filter[i].utf8.elementsEqual(topic[i].utf8) { return false }
            i += 1
        }
        return i == topic.count
    }

    /// Is every topic that `filter` matches also matched by `pattern`? Sound, not complete: a `true`
    /// is always right; a few contained filters with a leading `#` are refused (e.g. `#` within
    /// `+/+/#`).
    static func contains(pattern: Levels, filter: Levels) -> Bool {
        if let f = filter.first, isDollar(f), let p = pattern.first, isWildcard(p) { return false }
        // `#` within `+/#`: both match every non-`$` topic (every topic has at least one level).
        if filter.count == 1, isMultiLevel(filter[0]), pattern.count == 2, isSingleLevel(pattern[0]), isMultiLevel(pattern[1]) {
            return true
        }
        var i = 0
        while true {
            if i < pattern.count && isMultiLevel(pattern[i]) { return true }
            guard i < filter.count else { return i == pattern.count }
            guard i < pattern.count else { return false }
            let f = filter[i]
            let p = pattern[i]
            if isMultiLevel(f) { return false }  // the filter reaches deeper (and shallower) than the pattern
            if isSingleLevel(p) {
                // any single level of the filter, literal or `+`, is within `+`
            } else if isSingleLevel(f) || !f.utf8.elementsEqual(p.utf8) {
                return false
            }
            i += 1
        }
    }

    /// Is there a topic that both `pattern` and `filter` match?
    static func intersects(pattern: Levels, filter: Levels) -> Bool {
        if let f = filter.first, let p = pattern.first {
            if isDollar(f) && isWildcard(p) { return false }
            if isDollar(p) && isWildcard(f) { return false }
        }
        var i = 0
        while true {
            if i < pattern.count && isMultiLevel(pattern[i]) { return true }
            if i < filter.count && isMultiLevel(filter[i]) { return true }
            guard i < pattern.count, i < filter.count else { return i == pattern.count && i == filter.count }
            let f = filter[i]
            let p = pattern[i]
            if !isSingleLevel(f) && !isSingleLevel(p) && !f.utf8.elementsEqual(p.utf8) { return false }
            i += 1
        }
    }
}
