/// Topic name and topic filter rules (spec §4.7), shared by the decoder and the broker.
///
/// Both checks are single forward passes over the UTF-8 bytes with a level counter: no recursion and no
/// splitting into arrays, so a filter of 65,000 `/` costs one loop and no stack (CVE-2019-11779, M21).
public enum MQTTTopic {
    /// Default cap on topic levels (a filter of 65,000 `/` is rejected without recursion; M21).
    public static let defaultMaximumLevels = 32

    private static let slash = UInt8(ascii: "/")
    private static let plus = UInt8(ascii: "+")
    private static let hash = UInt8(ascii: "#")
    /// The prefix of a shared subscription. [MQTT-4.8.2-1]
    private static let sharePrefix = "$share/"

    /// Checks a PUBLISH topic name: non-empty, no `+` or `#`, at most `maximumLevels` levels.
    /// (UTF-8 well-formedness and the U+0000 ban are checked when the string is decoded.)
    public static func validateName(_ name: String, maximumLevels: Int = defaultMaximumLevels) throws(MQTTCodecError) {
        // [MQTT-4.7.3-1] at least one character long.
        guard !name.isEmpty else { throw nameError("topic name is empty") }
        var levels = 1
        for byte in name.utf8 {
            if byte == slash {
                levels += 1
                guard levels <= maximumLevels else { throw nameError("topic name has too many levels") }
            } else if byte == plus || byte == hash {
                // [MQTT-4.7.0-1] wildcards MUST NOT be used within a Topic Name.
                throw nameError("topic name contains a wildcard")
            }
        }
    }

    /// Parses and checks a topic filter: `#` only last and alone in its level, `+` alone in its level,
    /// `$share/{group}/{filter}` with a non-empty group free of `+ # /` and a non-empty valid filter.
    public static func parseFilter(_ filter: String, maximumLevels: Int = defaultMaximumLevels) throws(MQTTCodecError) -> MQTTTopicFilter {
        // [MQTT-4.7.3-1] at least one character long.
        guard !filter.isEmpty else { throw filterError("topic filter is empty") }
        let bytes = filter.utf8
        guard bytes.starts(with: sharePrefix.utf8) else {
            let hasWildcards = try checkFilterLevels(bytes[...], maximumLevels: maximumLevels)
            return MQTTTopicFilter(raw: filter, shareName: nil, filter: filter, hasWildcards: hasWildcards)
        }
        // $share/{ShareName}/{filter} (5.0 §4.8.2): `$share/ab` has no filter part (CVE-2025-68699).
        let rest = bytes.dropFirst(sharePrefix.utf8.count)
        guard let separator = rest.firstIndex(of: slash) else { throw filterError("shared subscription without a filter") }
        let group = rest[..<separator]
        let inner = rest[rest.index(after: separator)...]
        // [MQTT-4.8.2-1] ShareName at least one character; [MQTT-4.8.2-2] no `/`, `+` or `#`.
        guard !group.isEmpty else { throw filterError("shared subscription with an empty share name") }
        for byte in group where byte == plus || byte == hash {
            throw filterError("share name contains a wildcard")
        }
        guard !inner.isEmpty else { throw filterError("shared subscription with an empty filter") }
        let hasWildcards = try checkFilterLevels(inner, maximumLevels: maximumLevels)
        return MQTTTopicFilter(
            raw: filter, shareName: String(Substring(group)), filter: String(Substring(inner)), hasWildcards: hasWildcards)
    }

    /// Checks wildcard placement and the level count in one pass; returns whether a wildcard occurs.
    private static func checkFilterLevels(_ bytes: Substring.UTF8View, maximumLevels: Int) throws(MQTTCodecError) -> Bool {
        var levels = 1
        var levelLength = 0
        var levelIsWildcard = false
        var sawHash = false
        var hasWildcards = false
        for byte in bytes {
            // [MQTT-4.7.1-1] `#` must be the last character of the filter.
            guard !sawHash else { throw filterError("multi-level wildcard is not last") }
            if byte == slash {
                levels += 1
                guard levels <= maximumLevels else { throw filterError("topic filter has too many levels") }
                levelLength = 0
                levelIsWildcard = false
            } else if byte == plus || byte == hash {
                // [MQTT-4.7.1-2] a wildcard must occupy an entire level.
                guard levelLength == 0 else { throw filterError("wildcard does not occupy an entire level") }
                levelLength = 1
                levelIsWildcard = true
                hasWildcards = true
                sawHash = byte == hash
            } else {
                guard !levelIsWildcard else { throw filterError("wildcard does not occupy an entire level") }
                levelLength += 1
            }
        }
        return hasWildcards
    }

    private static func nameError(_ message: String) -> MQTTCodecError {
        MQTTCodecError(.topicNameInvalid, reasonCode: .topicNameInvalid, message: message)
    }

    private static func filterError(_ message: String) -> MQTTCodecError {
        MQTTCodecError(.topicFilterInvalid, reasonCode: .topicFilterInvalid, message: message)
    }
}

/// A validated topic filter, split into its shared-subscription group (if any) and the filter proper.
public struct MQTTTopicFilter: Sendable, Hashable {
    /// The filter exactly as the client sent it (e.g. `$share/g/a/+`); the session's key for it.
    public var raw: String
    /// The group of a `$share/{group}/…` subscription.
    public var shareName: String?
    /// The filter that is matched against topic names (`a/+` for the example above).
    public var filter: String
    /// True when the filter contains `+` or `#`.
    public var hasWildcards: Bool

    public init(raw: String, shareName: String?, filter: String, hasWildcards: Bool) {
        self.raw = raw
        self.shareName = shareName
        self.filter = filter
        self.hasWildcards = hasWildcards
    }
}
