/// What an MQTT client wants to do with a topic.
public enum TopicAction: Sendable, Hashable {
    case publish
    case subscribe
}
