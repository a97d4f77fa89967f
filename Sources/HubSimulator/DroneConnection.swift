import HubAuth
import MQTTCodec
import NIOCore

/// One drone's connection and what is in flight on it. Lives on its `FleetLoop`'s event loop.
final class DroneSlot {
    enum State: Equatable {
        /// Waiting for its turn (and its back-off) to connect.
        case waiting(notBefore: Int64)
        /// TCP, TLS and CONNECT under way.
        case connecting
        /// CONNACK 0 received.
        case online
        /// We sent DISCONNECT: to renew the SAS token (reconnect at once) or because the run ends.
        case closing(renew: Bool)
        /// The run ended.
        case stopped
    }

    var agent: DroneAgent
    let credential: FleetSimulator.Credential
    /// Its position in its loop's `slots` (for the waiting queue).
    var index = 0
    var state: State
    var channel: (any Channel)?
    /// Consecutive failed attempts (the back-off grows with them).
    var failures = 0
    /// Why the last attempt failed, when the channel said.
    var lastError: String?
    var renewAt: Int64 = .max
    var lastSent: Int64 = 0
    var connectTimer: Scheduled<Void>?
    private var nextPacketID: UInt16 = 0
    /// Unacknowledged QoS 1 messages: send time (ns) and whether it is telemetry (whose latency counts).
    var inflight: [UInt16: (sent: UInt64, telemetry: Bool)] = [:]

    init(agent: DroneAgent, credential: FleetSimulator.Credential, notBefore: Int64) {
        self.agent = agent
        self.credential = credential
        state = .waiting(notBefore: notBefore)
    }

    /// A packet id not in flight (1…65535).
    func packetID() -> UInt16 {
        repeat {
            nextPacketID = nextPacketID == .max ? 1 : nextPacketID + 1
        } while inflight[nextPacketID] != nil
        return nextPacketID
    }

    /// The CONNECT of an Azure device (MQTT 3.1.1, persistent session, SAS token as password).
    func connectPacket(hostName: String, expiry: Int64, keepAlive: UInt16) -> MQTTPacket {
        let id = credential.deviceID
        let token = SASToken.make(resourceURI: "\(hostName)/devices/\(id)", key: credential.key, expiry: expiry)
        return .connect(MQTTConnect(
            protocolVersion: .v3_1_1, cleanStart: false, keepAlive: keepAlive, clientID: id,
            username: "\(hostName)/\(id)/?api-version=2021-04-12&DeviceClientType=meridian-simulator%2F1.0",
            password: ByteBuffer(string: token)))
    }
}

/// The thin NIO side of a drone's connection: writes the CONNECT when the channel is up, splits the byte
/// stream into MQTT packets for its loop, and reports errors and the end of the channel.
final class DroneChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let slot: DroneSlot
    private unowned let loop: FleetLoop
    private let connect: MQTTPacket
    private var pending: ByteBuffer?

    init(slot: DroneSlot, loop: FleetLoop, connect: MQTTPacket) {
        self.slot = slot
        self.loop = loop
        self.connect = connect
    }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 512)
        do {
            try connect.encode(into: &buffer, version: .v3_1_1)
        } catch {
            slot.lastError = "cannot encode CONNECT: \(error)"
            context.close(promise: nil)
            return
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var carried = pending {
            carried.writeBuffer(&bytes)
            bytes = carried
            pending = nil
        }
        while true {
            let packet: MQTTPacket?
            do {
                packet = try MQTTPacketDecoder.decode(from: &bytes, version: .v3_1_1)
            } catch {
                slot.lastError = "malformed packet from the hub: \(error)"
                context.close(promise: nil)
                return
            }
            guard let packet else { break }
            loop.received(packet, on: slot)
        }
        if bytes.readableBytes > 0 { pending = bytes }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        slot.lastError = "\(error)"
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        loop.closed(slot)
        context.fireChannelInactive()
    }
}
