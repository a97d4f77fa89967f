import MQTTCodec
import NIOCore

/// A protocol layer on top of MQTT (the Azure device protocol) that sees a client's PUBLISH after its
/// topic rights were checked and before the broker routes it. Called on the connection's event loop:
/// decide quickly and never block; slow work returns a future.
public protocol PublishInterceptor: Sendable {
    func intercept(_ message: ApplicationMessage, from client: PublishingClient) -> PublishDisposition
}

/// The connection a PUBLISH came from.
public struct PublishingClient: Sendable {
    public var clientID: String
    /// The grant the client connected with (its `context` identifies a device).
    public var grant: ConnectGrant
    public var protocolVersion: MQTTProtocolVersion
    /// The connection's event loop, for promises the interceptor completes later.
    public var eventLoop: any EventLoop

    public init(clientID: String, grant: ConnectGrant, protocolVersion: MQTTProtocolVersion, eventLoop: any EventLoop) {
        self.clientID = clientID
        self.grant = grant
        self.protocolVersion = protocolVersion
        self.eventLoop = eventLoop
    }
}

/// What the broker does with an intercepted PUBLISH.
public enum PublishDisposition: Sendable {
    /// Route it to subscribers as usual and acknowledge it at once.
    case route
    /// Accepted by the interceptor: route `route` (if any) to subscribers, and acknowledge (PUBACK /
    /// PUBREC) once `acknowledgeWhen` succeeds (at once when nil). A failed future means the message was
    /// not stored: no acknowledgement is sent and the connection is closed (5.0: DISCONNECT 0x89 Server
    /// busy), so the client resends it after reconnecting. Acknowledgements stay in the order the
    /// PUBLISH packets arrived. [MQTT-4.6.0-2]
    ///
    /// `decorate`, if given, finishes `route` only when a subscription matches it (for additions that
    /// cost something to compute, such as user properties); it must not change the topic, RETAIN or
    /// the origin client id, which matching reads.
    case accept(route: ApplicationMessage?, acknowledgeWhen: EventLoopFuture<Void>?, decorate: (@Sendable (inout ApplicationMessage) -> Void)? = nil)
    /// Refused like a topic the client has no rights to: 5.0 QoS 1/2 get this reason code in the
    /// acknowledgement, 5.0 QoS 0 a DISCONNECT with it; a 3.1.1 connection is closed.
    case refuse(MQTTReasonCode)
    /// Close the connection (5.0: DISCONNECT with this reason code first), as Azure does for protocol
    /// violations.
    case disconnect(MQTTReasonCode)
}

/// The result of `MQTTBroker.deliver(_:toClient:requiringSubscription:)`.
public enum DirectDeliveryResult: Sendable, Equatable {
    /// Queued for the client's connection.
    case queued
    /// The client is not connected.
    case notConnected
    /// The client is connected but has no subscription matching the topic.
    case notSubscribed
    /// The client's queue is full; the message was not queued.
    case queueFull
}
