import MQTTCodec

/// Retained messages, one per topic, in a trie of topic levels so a wildcard subscription finds its
/// retained messages without scanning every topic. Not thread-safe; the broker guards it.
struct RetainedStore {
    final class Node {
        var children: [ByteString: Node] = [:]
        var message: ApplicationMessage?
    }

    private let root = Node()
    private(set) var count = 0

    /// Stores `message` as the retained message of its topic, or clears the topic when `message` is nil.
    /// Returns false when storing a new topic was refused because `limit` is reached.
    @discardableResult
    mutating func set(_ topic: String, _ message: ApplicationMessage?, limit: Int = .max) -> Bool {
        let levels = topic.topicLevels()
        if let message {
            var node = root
            for level in levels {
                if let next = node.children[ByteString(level)] {
                    node = next
                } else {
                    let next = Node()
                    node.children[ByteString(String(level))] = next
                    node = next
                }
            }
            if node.message == nil {
                if count >= limit { return false }
                count += 1
            }
            node.message = message
            return true
        }
        // Clear, pruning empty nodes.
        var path: [(Node, Substring)] = []
        var node = root
        for level in levels {
            guard let next = node.children[ByteString(level)] else { return true }
            path.append((node, level))
            node = next
        }
        guard node.message != nil else { return true }
        node.message = nil
        count -= 1
        var child = node
        for (parent, level) in path.reversed() {
            guard child.message == nil, child.children.isEmpty else { break }
            parent.children[ByteString(level)] = nil
            child = parent
        }
        return true
    }

    func message(for topic: String) -> ApplicationMessage? {
        var node = root
        for level in topic.topicLevels() {
            guard let next = node.children[ByteString(level)] else { return nil }
            node = next
        }
        return node.message
    }

    /// Retained messages whose topic matches `filter` (the filter proper, without `$share/`).
    /// Wildcards at the first level do not match `$` topics. [MQTT-4.7.2-1]
    func matching(_ filter: String) -> [ApplicationMessage] {
        let levels = filter.topicLevels()
        var result: [ApplicationMessage] = []
        var stack: [(Node, Int)] = [(root, 0)]
        while let (node, depth) = stack.popLast() {
            if depth == levels.count {
                if let m = node.message { result.append(m) }
                continue
            }
            switch levels[depth] {
            case "#":
                // `a/#` matches `a` too, and everything below.
                if let m = node.message, depth > 0 { result.append(m) }
                var sub: [Node] = []
                for (key, child) in node.children where depth > 0 || key.value.utf8.first != UInt8(ascii: "$") { sub.append(child) }
                while let n = sub.popLast() {
                    if let m = n.message { result.append(m) }
                    sub.append(contentsOf: n.children.values)
                }
            case "+":
                for (key, child) in node.children where depth > 0 || key.value.utf8.first != UInt8(ascii: "$") {
                    stack.append((child, depth + 1))
                }
            default:
                if let child = node.children[ByteString(levels[depth])] { stack.append((child, depth + 1)) }
            }
        }
        return result
    }

    /// Every retained message (for persistence snapshots).
    func all() -> [ApplicationMessage] {
        var result: [ApplicationMessage] = []
        result.reserveCapacity(count)
        var stack = [root]
        while let n = stack.popLast() {
            if let m = n.message { result.append(m) }
            stack.append(contentsOf: n.children.values)
        }
        return result
    }
}
