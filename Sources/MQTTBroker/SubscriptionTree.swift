import MQTTCodec

/// One subscription as the tree stores it.
struct Subscriber {
    let session: Session
    var options: MQTTSubscriptionOptions
    var identifier: UInt32?
}

/// A match: the session to deliver to and the subscription(s) that matched.
struct SubscriptionMatch {
    let session: Session
    var qos: MQTTQoS
    var noLocal: Bool
    var retainAsPublished: Bool
    /// Identifiers of every matching subscription of this session that has one. [MQTT-3.3.4-3]
    var identifiers: [UInt32]
}

/// The topic tree: topic filters split into levels, with each node holding the sessions subscribed to the
/// filter that ends there, and the shared-subscription groups of that filter.
///
/// Not thread-safe: the broker guards it with a mutex and keeps critical sections short. Matching is
/// iterative (an explicit stack) so no topic or filter shape can exhaust the thread stack.
struct SubscriptionTree {
    final class Node {
        var children: [ByteString: Node] = [:]
        var plus: Node?
        var hash: Node?
        /// Non-shared subscribers of the filter ending at this node, by session identity.
        var subscribers: [ObjectIdentifier: Subscriber] = [:]
        /// Shared groups (`$share/{group}/filter`) of the filter ending at this node.
        var groups: [ByteString: SharedGroup] = [:]

        var isEmpty: Bool {
            children.isEmpty && plus == nil && hash == nil && subscribers.isEmpty && groups.isEmpty
        }
    }

    /// The members of one shared subscription group, served round-robin. A class so the round-robin
    /// cursor can advance during matching without rewriting the node's dictionary.
    final class SharedGroup {
        var members: [Subscriber] = []
        var next = 0
    }

    private let root = Node()
    /// Subscriptions held (shared ones count once per member).
    private(set) var count = 0

    /// Adds or replaces a session's subscription to `filter`. Returns true when it replaced one.
    @discardableResult
    mutating func insert(_ filter: MQTTTopicFilter, subscriber: Subscriber) -> Bool {
        let node = self.node(for: filter.filter, create: true)!
        let key = ObjectIdentifier(subscriber.session)
        var replaced = false
        if let group = filter.shareName {
            let g: SharedGroup
            if let existing = node.groups[ByteString(group)] { g = existing } else { g = SharedGroup(); node.groups[ByteString(group)] = g }
            if let i = g.members.firstIndex(where: { $0.session === subscriber.session }) {
                g.members[i] = subscriber
                replaced = true
            } else {
                g.members.append(subscriber)
            }
        } else {
            replaced = node.subscribers.updateValue(subscriber, forKey: key) != nil
        }
        if !replaced { count += 1 }
        return replaced
    }

    /// Removes a session's subscription to `filter`. Returns true when there was one.
    @discardableResult
    mutating func remove(_ filter: MQTTTopicFilter, session: Session) -> Bool {
        // Walk down remembering the path so empty nodes can be pruned bottom-up.
        var path: [(Node, Substring, Kind)] = []
        var node = root
        for level in filter.filter.topicLevels() {
            let next: Node?
            let kind: Kind
            switch level {
            case "+": next = node.plus; kind = .plus
            case "#": next = node.hash; kind = .hash
            default: next = node.children[ByteString(level)]; kind = .literal
            }
            guard let next else { return false }
            path.append((node, level, kind))
            node = next
        }
        var removed = false
        if let group = filter.shareName {
            if let g = node.groups[ByteString(group)], let i = g.members.firstIndex(where: { $0.session === session }) {
                g.members.remove(at: i)
                if g.next > i { g.next -= 1 }
                if g.members.isEmpty { node.groups[ByteString(group)] = nil }
                removed = true
            }
        } else {
            removed = node.subscribers.removeValue(forKey: ObjectIdentifier(session)) != nil
        }
        guard removed else { return false }
        count -= 1
        // Prune nodes left empty, deepest first.
        var child = node
        for (parent, level, kind) in path.reversed() {
            guard child.isEmpty else { break }
            switch kind {
            case .plus: parent.plus = nil
            case .hash: parent.hash = nil
            case .literal: parent.children[ByteString(level)] = nil
            }
            child = parent
        }
        return true
    }

    private enum Kind { case literal, plus, hash }

    private func node(for filter: String, create: Bool) -> Node? {
        var node = root
        for level in filter.topicLevels() {
            switch level {
            case "+":
                if node.plus == nil { guard create else { return nil }; node.plus = Node() }
                node = node.plus!
            case "#":
                if node.hash == nil { guard create else { return nil }; node.hash = Node() }
                node = node.hash!
            default:
                if let next = node.children[ByteString(level)] {
                    node = next
                } else {
                    guard create else { return nil }
                    let next = Node()
                    node.children[ByteString(String(level))] = next
                    node = next
                }
            }
        }
        return node
    }

    /// Every subscription matching `topic`, one entry per session (overlapping subscriptions of a
    /// session are merged: highest QoS, all identifiers), and one member per shared group.
    ///
    /// `isOnline` lets shared groups prefer members that are connected.
    mutating func match(_ topic: String, into result: inout [SubscriptionMatch], isOnline: (Session) -> Bool) {
        let levels = topic.topicLevels()
        // Topics starting with `$` are not matched by a leading wildcard. [MQTT-4.7.2-1]
        let dollar = topic.utf8.first == UInt8(ascii: "$")
        var stack: [(Node, Int)] = [(root, 0)]
        let start = result.count
        while let (node, depth) = stack.popLast() {
            let wildcardsAllowed = depth > 0 || !dollar
            if wildcardsAllowed, let hash = node.hash {
                // `a/#` also matches `a` itself. [MQTT-4.7.1-2]
                collect(hash, into: &result, isOnline: isOnline)
            }
            if depth == levels.count {
                collect(node, into: &result, isOnline: isOnline)
                continue
            }
            if let child = node.children[ByteString(levels[depth])] { stack.append((child, depth + 1)) }
            if wildcardsAllowed, let plus = node.plus { stack.append((plus, depth + 1)) }
        }
        if result.count - start > 1 { Self.mergePerSession(&result, from: start) }
    }

    private func collect(_ node: Node, into result: inout [SubscriptionMatch], isOnline: (Session) -> Bool) {
        for s in node.subscribers.values {
            result.append(SubscriptionMatch(
                session: s.session, qos: s.options.qos, noLocal: s.options.noLocal,
                retainAsPublished: s.options.retainAsPublished, identifiers: s.identifier.map { [$0] } ?? []))
        }
        if node.groups.isEmpty { return }
        for g in node.groups.values where !g.members.isEmpty {
            // Round-robin, skipping members whose session is offline when any member is online.
            var chosen = g.next % g.members.count
            for step in 0..<g.members.count {
                let i = (g.next + step) % g.members.count
                if isOnline(g.members[i].session) { chosen = i; break }
            }
            g.next = (chosen + 1) % g.members.count
            let s = g.members[chosen]
            // No Local does not apply to shared subscriptions (it is refused at subscribe time).
            result.append(SubscriptionMatch(
                session: s.session, qos: s.options.qos, noLocal: false,
                retainAsPublished: s.options.retainAsPublished, identifiers: s.identifier.map { [$0] } ?? []))
        }
    }

    /// Merges matches of the same session found through overlapping filters into one delivery.
    private static func mergePerSession(_ result: inout [SubscriptionMatch], from start: Int) {
        var index: [ObjectIdentifier: Int] = [:]
        var merged: [SubscriptionMatch] = []
        merged.reserveCapacity(result.count - start)
        for m in result[start...] {
            let key = ObjectIdentifier(m.session)
            if let i = index[key] {
                merged[i].qos = max(merged[i].qos, m.qos)
                merged[i].noLocal = merged[i].noLocal && m.noLocal
                merged[i].retainAsPublished = merged[i].retainAsPublished || m.retainAsPublished
                merged[i].identifiers.append(contentsOf: m.identifiers)
            } else {
                index[key] = merged.count
                merged.append(m)
            }
        }
        result.removeSubrange(start...)
        result.append(contentsOf: merged)
    }
}
