import DequeModule
import MQTTCodec
import NIOCore

/// The QoS 1/2 delivery state of a session: in-flight outbound messages by packet identifier (in send
/// order, for redelivery after a reconnect), and inbound QoS 2 identifiers awaiting PUBREL.
///
/// Pure and single-threaded: it belongs to the session's connection while one is attached, and is parked
/// in the session while it is offline.
struct SessionOutbound: Sendable {
    /// The handshake step an in-flight message is at.
    enum Stage: Sendable, Equatable {
        case awaitingPubAck
        case awaitingPubRec
        case awaitingPubComp
    }

    struct Entry: Sendable {
        var message: OutboundMessage
        var stage: Stage
        /// Orders redelivery; distinguishes a reused packet identifier from a stale order slot.
        var sequence: UInt64
    }

    private(set) var entries: [UInt16: Entry] = [:]
    private var order: Deque<(id: UInt16, sequence: UInt64)> = []
    private var nextSequence: UInt64 = 0
    private var lastPacketID: UInt16 = 0
    /// Inbound QoS 2 packet identifiers for which PUBREC was sent and PUBREL not yet received.
    var inboundQoS2: Set<UInt16> = []

    /// Messages in flight (sent, not completely acknowledged).
    var inflightCount: Int { entries.count }

    /// Assigns a free packet identifier to `message` and records it as in flight.
    /// Returns nil when all 65,535 identifiers are in use (the caller's window prevents that).
    mutating func send(_ message: OutboundMessage) -> UInt16? {
        guard entries.count < Int(UInt16.max) else { return nil }
        var id = lastPacketID
        repeat {
            id = id == UInt16.max ? 1 : id + 1
        } while entries[id] != nil
        lastPacketID = id
        let seq = nextSequence
        nextSequence += 1
        entries[id] = Entry(message: message, stage: message.qos == .exactlyOnce ? .awaitingPubRec : .awaitingPubAck, sequence: seq)
        order.append((id, seq))
        return id
    }

    /// Result of an acknowledgement from the client.
    enum AckResult: Equatable {
        /// The message is done (PUBACK, PUBCOMP).
        case completed
        /// PUBREC accepted: send PUBREL.
        case sendPubRel
        /// PUBREC with a failure code: the message is done and no PUBREL is sent (5.0 §4.3.3).
        case completedWithoutPubRel
        /// Unknown packet identifier: ignored (M35), or for PUBREC answered with PUBREL 0x92.
        case unknown
    }

    mutating func pubAckReceived(_ id: UInt16) -> AckResult {
        guard let e = entries[id], e.stage == .awaitingPubAck else { return .unknown }
        remove(id)
        return .completed
    }

    mutating func pubRecReceived(_ id: UInt16, reasonCode: MQTTReasonCode) -> AckResult {
        guard let e = entries[id] else { return .unknown }
        switch e.stage {
        case .awaitingPubRec:
            if reasonCode.isFailure {
                remove(id)
                return .completedWithoutPubRel
            }
            entries[id]!.stage = .awaitingPubComp
            return .sendPubRel
        case .awaitingPubComp:
            return .sendPubRel  // a repeated PUBREC: repeat the PUBREL
        case .awaitingPubAck:
            return .unknown
        }
    }

    mutating func pubCompReceived(_ id: UInt16) -> AckResult {
        guard let e = entries[id], e.stage == .awaitingPubComp else { return .unknown }
        remove(id)
        return .completed
    }

    /// Forgets an in-flight message that could not be sent (e.g. larger than the client's Maximum
    /// Packet Size, which counts as delivered [MQTT-3.1.2-25]).
    mutating func discard(_ id: UInt16) {
        if entries[id] != nil { remove(id) }
    }

    private mutating func remove(_ id: UInt16) {
        entries[id] = nil
        // Drop stale order slots from the front (acks mostly arrive in order, so this stays O(1)).
        while let first = order.first, entries[first.id]?.sequence != first.sequence {
            order.removeFirst()
        }
        if entries.isEmpty { order.removeAll(keepingCapacity: order.count < 1024) }
    }

    /// In-flight messages in their original send order, for redelivery on a new connection
    /// (PUBLISH with DUP=1, or PUBREL for those past PUBREC). [MQTT-4.4.0-1]
    var inflightInOrder: [(id: UInt16, entry: Entry)] {
        order.compactMap { slot in
            guard let e = entries[slot.id], e.sequence == slot.sequence else { return nil }
            return (slot.id, e)
        }
    }

    /// Removes in-flight messages that expired before being acknowledged (QoS 1/2 messages still
    /// awaiting PUBACK/PUBREC on reconnect are redelivered unless expired).
    mutating func dropExpired(at now: NIODeadline) -> Int {
        var dropped = 0
        for (id, e) in entries where e.stage != .awaitingPubComp && e.message.message.isExpired(at: now) {
            remove(id)
            dropped += 1
        }
        return dropped
    }

    /// Rebuilds state from persistence: messages with packet identifiers in send order.
    init(restoring inflight: [(id: UInt16, message: OutboundMessage, stage: Stage)], inboundQoS2: [UInt16]) {
        for item in inflight where entries[item.id] == nil {
            entries[item.id] = Entry(message: item.message, stage: item.stage, sequence: nextSequence)
            order.append((item.id, nextSequence))
            nextSequence += 1
            lastPacketID = item.id
        }
        self.inboundQoS2 = Set(inboundQoS2)
    }

    init() {}
}
