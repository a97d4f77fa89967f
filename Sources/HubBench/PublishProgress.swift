/// What a run reports once a second while it runs.
public struct PublishProgress: Sendable, Hashable {
    /// Where the run is.
    public enum Phase: String, Sendable, Hashable {
        case warmup, measuring, draining
    }

    public var phase: Phase
    /// Seconds since publishing started.
    public var elapsed: Double
    /// Seconds of warm-up plus window.
    public var total: Double
    /// PUBACKs (QoS 1) or sends (QoS 0) per second over the last interval.
    public var messagesPerSecond: Double
    /// p99 PUBACK latency over the last interval, µs.
    public var intervalP99: UInt64?
    /// p99 PUBACK latency of the measured window so far, µs.
    public var measuredP99: UInt64?
    /// Messages in flight now.
    public var inflight: UInt64
    /// Connections open now.
    public var open: UInt64
    /// Connections lost so far.
    public var disconnects: UInt64
    /// Errors so far.
    public var errors: UInt64
    /// Rate mode: messages due but not sent.
    public var backlog: UInt64
}
