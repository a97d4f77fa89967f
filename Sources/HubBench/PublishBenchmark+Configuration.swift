import MQTTCodec
import NIOSSL

extension PublishBenchmark {
    /// Everything one `bench publish` run needs. HubCLI fills it from flags; defaults are the issue's
    /// scenario (QoS 1, 200-byte payloads, flat out, 60 s after a 5 s warm-up).
    public struct Configuration: Sendable {
        /// A name for the target in reports (`meridian`, `mosquitto` …).
        public var label: String = "broker"
        /// Broker host name or address.
        public var host: String = "127.0.0.1"
        /// Broker port.
        public var port: Int = 1883
        /// TLS settings, or nil for plain TCP.
        public var tls: TLSConfiguration? = nil
        /// The publishers, one connection each, spread round-robin over the event loops.
        public var publishers: [BenchPublisher] = []
        /// MQTT revision; 3.1.1 is what Azure devices speak. With 5.0 the window is clamped to the
        /// CONNACK's Receive Maximum.
        public var protocolVersion: MQTTProtocolVersion = .v3_1_1
        /// QoS of every message: 0 or 1.
        public var qos: MQTTQoS = .atLeastOnce
        /// Payload size in bytes.
        public var payloadSize: Int = 200
        /// Total messages per second over all publishers; 0 = as fast as the window and the socket allow.
        public var rate: Double = 0
        /// Length of the measured window, seconds.
        public var duration: Double = 60
        /// Seconds of load before the measured window, excluded from the figures.
        public var warmup: Double = 5
        /// QoS 1 messages in flight per publisher. Keep it at or below the broker's receive maximum (the
        /// hub's `receive-maximum`, default 100): an MQTT 3.1.1 CONNACK cannot say it.
        public var inflight: Int = 100
        /// New connections per second while connecting; 0 = all at once.
        public var connectRate: Double = 0
        /// Event-loop threads of the generator.
        public var threads: Int = 1
        /// Seed of the payload contents.
        public var seed: UInt64 = 1
        /// `occurrenceUtcTime` of every payload, seconds since 1970.
        public var payloadTime: Int64 = 1_795_514_400
        /// Keep Alive sent in CONNECT, seconds.
        public var keepAlive: UInt16 = 300
        /// Seconds a connection may take from TCP connect to CONNACK.
        public var connectTimeout: Double = 10
        /// Seconds to wait after the window for outstanding PUBACKs.
        public var drainTimeout: Double = 10
        /// A broker process to sample (CPU, RSS, threads from /proc), if any.
        public var brokerPID: Int32? = nil

        public init() {}

        /// The longest the whole run can take: connecting, warm-up, window, drain and closing.
        public var hardTimeout: Double {
            let connecting = connectRate > 0 ? Double(publishers.count) / connectRate : 0
            return connecting + connectTimeout + warmup + duration + drainTimeout + 15
        }

        /// Checks ranges and combinations; the messages name the CLI's flags.
        public func validate() throws(BenchError) {
            guard !publishers.isEmpty else { throw .invalid("--devices must be at least 1") }
            guard publishers.count <= Self.maximumPublishers else {
                throw .invalid("--devices must be at most \(Self.maximumPublishers)")
            }
            guard (1...65_535).contains(port) else { throw .invalid("--mqtt-port must be 1...65535") }
            guard !host.isEmpty else { throw .invalid("--mqtt-host must not be empty") }
            guard qos == .atMostOnce || qos == .atLeastOnce else { throw .invalid("--qos must be 0 or 1") }
            guard protocolVersion == .v3_1_1 || protocolVersion == .v5 else { throw .invalid("--mqtt-version must be 3.1.1 or 5") }
            guard (TelemetryPayload.minimumSize...TelemetryPayload.maximumSize).contains(payloadSize) else {
                throw .invalid("--payload must be \(TelemetryPayload.minimumSize)...\(TelemetryPayload.maximumSize) bytes")
            }
            guard rate.isFinite, rate >= 0 else { throw .invalid("--rate must be 0 (flat out) or a positive number of messages per second") }
            guard rate == 0 || rate / Double(publishers.count) <= Self.maximumRatePerPublisher else {
                throw .invalid("--rate gives each publisher more than \(Int(Self.maximumRatePerPublisher)) msg/s; use --rate 0 for flat out")
            }
            guard rate == 0 || rate * duration >= 1 else { throw .invalid("--rate × --duration must be at least one message") }
            guard duration.isFinite, duration > 0, duration <= Self.maximumDuration else {
                throw .invalid("--duration must be more than 0 and at most \(Int(Self.maximumDuration)) seconds")
            }
            guard warmup.isFinite, warmup >= 0, warmup <= Self.maximumDuration else {
                throw .invalid("--warmup must be 0...\(Int(Self.maximumDuration)) seconds")
            }
            guard (1...65_535).contains(inflight) else { throw .invalid("--inflight must be 1...65535 (MQTT packet identifiers)") }
            guard connectRate.isFinite, connectRate >= 0 else { throw .invalid("--connect-rate must be 0 (all at once) or positive") }
            guard (1...Self.maximumThreads).contains(threads) else { throw .invalid("--threads must be 1...\(Self.maximumThreads)") }
            guard connectTimeout > 0, drainTimeout >= 0 else { throw .invalid("timeouts must be positive") }
            for p in publishers {
                do {
                    try MQTTTopic.validateName(p.topic)
                } catch {
                    throw .invalid("the topic \(p.topic) is not a valid topic name: \(error)")
                }
                guard !p.clientID.isEmpty, p.clientID.utf8.count <= 65_535 else { throw .invalid("client ids must be 1...65535 bytes") }
            }
        }

        /// Publishers per run at most (a later connect-storm scenario may raise it).
        public static let maximumPublishers = 100_000
        /// Longest window or warm-up, seconds.
        public static let maximumDuration: Double = 3600
        /// Event-loop threads at most.
        public static let maximumThreads = 64
        /// Messages per second one publisher may be asked for in rate mode (the scheduler's tick is 1 ms,
        /// so more would only be sent in bursts).
        public static let maximumRatePerPublisher: Double = 1_000_000
    }
}
