/// Topic name and topic filter rules (spec §4.7), shared by the decoder and the broker.
public enum MQTTTopic {
    /// Default cap on topic levels (a filter of 65,000 `/` is rejected without recursion; M21).
    public static let defaultMaximumLevels = 32

    /// Checks a PUBLISH topic name: non-empty, no `+` or `#`, at most `maximumLevels` levels.
    /// (UTF-8 well-formedness and the U+0000 ban are checked when the string is decoded.)
    public static func validateName(_ name: String, maximumLevels: Int = defaultMaximumLevels) throws(MQTTCodecError) {
        fatalError("MQTTCodec: topic rules not implemented yet")
    }

    /// Parses and checks a topic filter: `#` only last and alone in its level, `+` alone in its level,
    /// `$share/{group}/{filter}` with a non-empty group free of `+ # /` and a non-empty valid filter.
    public static func parseFilter(_ filter: String, maximumLevels: Int = defaultMaximumLevels) throws(MQTTCodecError) -> MQTTTopicFilter {
        fatalError("MQTTCodec: topic rules not implemented yet")
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
