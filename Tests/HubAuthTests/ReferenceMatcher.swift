/// MQTT filter matching written straight from the spec (§4.7), recursively, as an independent oracle.
enum ReferenceMatcher {
    static func levels(_ text: String) -> [String] {
        text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    }

    static func matches(filter: String, topic: String) -> Bool {
        matches(filter: levels(filter), topic: levels(topic))
    }

    static func matches(filter: [String], topic: [String]) -> Bool {
        // [MQTT-4.7.2-1]: a leading wildcard never matches a topic starting with '$'.
        if let first = topic.first, first.utf8.first == UInt8(ascii: "$"), filter.first == "+" || filter.first == "#" { return false }
        return rest(filter[...], topic[...])
    }

    private static func rest(_ filter: ArraySlice<String>, _ topic: ArraySlice<String>) -> Bool {
        guard let head = filter.first else { return topic.isEmpty }
        if head == "#" { return true }
        guard let level = topic.first else { return false }
        guard head == "+" || head.utf8.elementsEqual(level.utf8) else { return false }
        return rest(filter.dropFirst(), topic.dropFirst())
    }
}
