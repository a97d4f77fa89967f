/// The outcome of one `bench publish` run: counts, throughput over the measured window, PUBACK latency
/// percentiles and the CPU and memory of the broker and of the generator.
public struct PublishReport: Sendable, Hashable, Codable {
    /// The target's name (`--label`, or the mode).
    public var label: String
    /// `host:port` of the broker.
    public var target: String
    /// `tls` or `tcp`.
    public var transport: String
    /// `3.1.1` or `5`.
    public var mqttVersion: String
    public var qos: Int
    public var payloadBytes: Int
    /// Publishers asked for.
    public var publishers: Int
    /// Publishers that got CONNACK 0.
    public var connected: Int
    /// QoS 1 window per publisher (after any Receive Maximum clamp).
    public var inflight: Int
    /// Total msg/s asked for; 0 = flat out.
    public var rate: Double
    public var warmupSeconds: Double
    public var durationSeconds: Double
    /// Wall-clock seconds of the measured window as it ran.
    public var measuredSeconds: Double
    /// Event-loop threads of the generator.
    public var generatorThreads: Int
    /// When the measured window started, seconds since 1970 (UTC).
    public var startedAt: Int64

    /// Messages written, whole run (warm-up and window).
    public var sent: UInt64
    /// PUBACKs received, whole run (after the drain).
    public var acked: UInt64
    /// Messages written inside the window.
    public var sentMeasured: UInt64
    /// PUBACKs received inside the window: the throughput figure.
    public var ackedMeasured: UInt64
    /// QoS 1 messages still without PUBACK after the drain (lost with a connection, or a slow broker).
    public var unacked: UInt64
    /// PUBACKs for identifiers not in flight.
    public var unknownAcks: UInt64
    /// Protocol and channel errors.
    public var errors: UInt64
    /// Connections that ended before the run did.
    public var disconnects: UInt64
    /// Publishers that did not connect.
    public var connectFailures: Int
    /// Why they did not, with counts.
    public var connectFailureReasons: [String: Int]
    /// Rate mode: messages due by the end of the window that were never sent (the generator or the
    /// window could not keep up).
    public var backlogAtEnd: UInt64
    /// Whether the drain timed out with messages still in flight.
    public var drainTimedOut: Bool

    /// QoS 1: PUBACKs per second in the window; QoS 0: messages sent per second in the window.
    public var messagesPerSecond: Double
    /// Messages sent per second in the window.
    public var sentPerSecond: Double
    /// PUBACK latency in the window (QoS 1 only).
    public var latency: LatencySummary?
    /// The broker process (`--broker-pid`).
    public var broker: ProcessUsage?
    /// The generator process (this one).
    public var generator: ProcessUsage?
    /// The whole machine (every process, the broker and the generator included).
    public var machine: MachineUsage?

    /// True when nothing went wrong: all connected, no disconnects, errors or unacknowledged messages.
    public var isClean: Bool {
        connectFailures == 0 && disconnects == 0 && errors == 0 && unacked == 0 && unknownAcks == 0 && !drainTimedOut
    }
}

/// PUBACK latency percentiles, microseconds (HdrHistogram, three significant digits).
public struct LatencySummary: Sendable, Hashable, Codable {
    public var count: UInt64
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    public var p999: UInt64
    public var max: UInt64
    public var mean: Double

    public init(count: UInt64, p50: UInt64, p90: UInt64, p99: UInt64, p999: UInt64, max: UInt64, mean: Double) {
        self.count = count
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.p999 = p999
        self.max = max
        self.mean = mean
    }
}
