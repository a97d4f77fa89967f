@testable import MQTTBroker
import MQTTCodec
import NIOCore
import Testing

@Suite("Session in-flight state")
struct SessionOutboundTests {
    func out(_ qos: MQTTQoS, _ text: String = "m") -> OutboundMessage {
        OutboundMessage(message: ApplicationMessage(topic: "t", payload: ByteBuffer(string: text), qos: qos, retain: false), qos: qos, retain: false)
    }

    @Test("packet identifiers are non-zero, unique while in flight, and wrap around skipping used ones")
    func packetIDs() {
        var o = SessionOutbound()
        var ids = Set<UInt16>()
        for _ in 0..<1000 { ids.insert(o.send(out(.atLeastOnce))!) }
        #expect(ids.count == 1000 && !ids.contains(0))
        for id in ids where id != 5 { #expect(o.pubAckReceived(id) == .completed) }
        for _ in 0..<70_000 {
            let id = o.send(out(.atLeastOnce))!
            #expect(id != 0 && id != 5)
            _ = o.pubAckReceived(id)
        }
        #expect(o.inflightCount == 1)
    }

    @Test("QoS 2 handshake: PUBREC → PUBREL, PUBCOMP completes; failures and unknown ids")
    func qos2() {
        var o = SessionOutbound()
        let id = o.send(out(.exactlyOnce))!
        #expect(o.pubAckReceived(id) == .unknown)  // wrong ack type
        #expect(o.pubCompReceived(id) == .unknown)
        #expect(o.pubRecReceived(id, reasonCode: .success) == .sendPubRel)
        #expect(o.pubRecReceived(id, reasonCode: .success) == .sendPubRel)  // repeated PUBREC
        #expect(o.pubCompReceived(id) == .completed)
        #expect(o.inflightCount == 0)
        let failed = o.send(out(.exactlyOnce))!
        #expect(o.pubRecReceived(failed, reasonCode: .notAuthorized) == .completedWithoutPubRel)
        #expect(o.pubRecReceived(999, reasonCode: .success) == .unknown)
    }

    @Test("redelivery order is send order, skipping acknowledged messages and reused ids")
    func order() {
        var o = SessionOutbound()
        let a = o.send(out(.atLeastOnce, "a"))!
        let b = o.send(out(.atLeastOnce, "b"))!
        let c = o.send(out(.exactlyOnce, "c"))!
        _ = o.pubAckReceived(b)
        _ = o.pubRecReceived(c, reasonCode: .success)
        let d = o.send(out(.atLeastOnce, "d"))!
        let order = o.inflightInOrder
        #expect(order.map(\.id) == [a, c, d])
        #expect(order.map { String(buffer: $0.entry.message.message.payload) } == ["a", "c", "d"])
        #expect(order[1].entry.stage == .awaitingPubComp)
    }

    @Test("expired messages are dropped before redelivery, except those past PUBREC")
    func expiry() {
        var o = SessionOutbound()
        let now = NIODeadline.now()
        var expiring = out(.atLeastOnce)
        expiring.message.expiresAt = now - .seconds(1)
        _ = o.send(expiring)
        var rel = out(.exactlyOnce)
        rel.message.expiresAt = now - .seconds(1)
        let relID = o.send(rel)!
        _ = o.pubRecReceived(relID, reasonCode: .success)
        #expect(o.dropExpired(at: now) == 1)
        #expect(o.inflightInOrder.map(\.id) == [relID])
    }
}
