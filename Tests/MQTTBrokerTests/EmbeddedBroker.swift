import Logging
@testable import MQTTBroker
import MQTTCodec
import NIOCore
import NIOEmbedded

/// A broker core on an `EmbeddedEventLoop`: connections are `EmbeddedChannel`s and time only moves
/// when a test advances it, so timers (keep-alive, Will Delay, session expiry) are tested exactly.
final class EmbeddedBroker {
    let loop = EmbeddedEventLoop()
    let core: BrokerCore

    init(_ configure: (inout BrokerConfiguration) -> Void = { _ in }) {
        var c = BrokerConfiguration()
        c.allowAnonymous = true
        configure(&c)
        var logger = Logger(label: "embedded-broker")
        logger.logLevel = .critical
        core = BrokerCore(
            configuration: c, persistence: InMemoryBrokerPersistence(), authenticator: AnonymousAuthenticator(allowAnonymous: true),
            group: loop, logger: logger)
    }

    func connection(_ version: MQTTProtocolVersion = .v5) throws -> Connection {
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(MQTTConnectionHandler(core: core, listenerName: "test"))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return Connection(channel: channel, version: version, loop: loop)
    }

    func advance(by amount: TimeAmount) {
        loop.advanceTime(by: amount)
        loop.run()
    }

    /// One embedded connection: packets in, packets out.
    final class Connection {
        let channel: EmbeddedChannel
        let version: MQTTProtocolVersion
        let loop: EmbeddedEventLoop
        private var pending = ByteBuffer()
        private var stash: [MQTTPacket] = []

        init(channel: EmbeddedChannel, version: MQTTProtocolVersion, loop: EmbeddedEventLoop) {
            self.channel = channel
            self.version = version
            self.loop = loop
        }

        func send(_ packet: MQTTPacket) throws {
            var buffer = ByteBuffer()
            try packet.encode(into: &buffer, version: version)
            try channel.writeInbound(buffer)
            loop.run()
        }

        /// Every packet the broker has written so far.
        func received() throws -> [MQTTPacket] {
            loop.run()
            while let chunk = try channel.readOutbound(as: ByteBuffer.self) {
                var c = chunk
                pending.writeBuffer(&c)
            }
            var packets = stash
            stash = []
            while let p = try MQTTPacketDecoder.decode(from: &pending, version: version, configuration: .init(maximumPacketSize: 1 << 28)) {
                packets.append(p)
            }
            return packets
        }

        @discardableResult
        func connect(_ clientID: String, cleanStart: Bool = true, keepAlive: UInt16 = 0, properties: MQTTProperties = [], will: MQTTWill? = nil) throws -> MQTTConnAck? {
            try send(.connect(MQTTConnect(protocolVersion: version, cleanStart: cleanStart, keepAlive: keepAlive, properties: properties, clientID: clientID, will: will)))
            var packets = try received()
            guard let i = packets.firstIndex(where: { if case .connAck = $0 { return true } else { return false } }),
                case .connAck(let ack) = packets.remove(at: i)
            else { return nil }
            stash = packets
            return ack
        }

        var isActive: Bool { channel.isActive }

        /// Closes the connection from the client side without DISCONNECT.
        func drop() {
            try? channel.close().wait()
            loop.run()
        }
    }
}
