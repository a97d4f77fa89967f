import HubAuth
import HubCore
import MQTTCodec
import NIOSSL

extension FleetSimulator {
    /// A registered drone: its position in the fleet, device id and SAS key.
    public struct Credential: Sendable {
        public var index: Int
        public var deviceID: String
        public var key: SharedAccessKey
        public init(index: Int, deviceID: String, key: SharedAccessKey) {
            self.index = index
            self.deviceID = deviceID
            self.key = key
        }
    }

    /// Everything a run needs; `validate()` checks it.
    public struct Configuration: Sendable {
        /// MQTT host and port (8883: MQTT over TLS, what Azure devices dial).
        public var host = "127.0.0.1"
        public var port = 8883
        /// TLS towards the hub (nil: plain TCP).
        public var tls: TLSConfiguration?
        /// The hub's name in user names and SAS tokens.
        public var hostName = "localhost"
        /// The drones, each with its key.
        public var drones: [Credential] = []
        /// Where they fly.
        public var layout: FleetLayout
        /// How they fly (faults per hour, cruise).
        public var settings = DroneSettings()
        /// Seed of every drone's flight (the same seed flies the same deliveries).
        public var seed: UInt64 = 1
        /// Messages per interval × this (2: flight data every 2.5 s and status every 10 s).
        public var rateMultiplier = 1.0
        /// Seconds to fly; nil until cancelled.
        public var duration: Double?
        /// Seconds at the start (the connect storm) left out of the report's latency percentiles.
        public var warmup = 0.0
        /// Event-loop threads of the simulator (it may share the machine with the hub).
        public var threads = 1
        /// New connections per second over the fleet (the hub's own connect-rate is 2,000 by default).
        public var connectRate = 500.0
        /// Seconds a connection attempt may take (TCP, TLS, CONNACK).
        public var connectTimeout = 15.0
        /// MQTT keep-alive in seconds (a silent drone still pings).
        public var keepAlive: UInt16 = 60
        /// Lifetime of each SAS token; a drone reconnects with a fresh one at 85–95 % of it, as the Azure
        /// SDKs renew.
        public var tokenLifetime = 3600.0
        /// Longest wait between reconnect attempts (back-off doubles from 1 s, with jitter).
        public var maximumBackoff = 60.0
        /// QoS of telemetry (1: PUBACK latency is measured).
        public var qos: MQTTQoS = .atLeastOnce
        /// Unacknowledged messages per drone at most; more are dropped and counted.
        public var maximumInflight = 64

        public init(layout: FleetLayout) { self.layout = layout }

        /// Drones a run may fly (one connection each, within the 20,000 files a process may open here).
        public static let maximumDrones = 15_000

        public func validate() throws(SimulationError) {
            guard !drones.isEmpty, drones.count <= Self.maximumDrones else {
                throw SimulationError("the fleet needs 1…\(Self.maximumDrones) drones")
            }
            guard (1...65_535).contains(port) else { throw SimulationError("the MQTT port must be 1…65535") }
            guard rateMultiplier > 0, rateMultiplier <= 1_000 else { throw SimulationError("the rate multiplier must be in (0, 1000]") }
            if let duration { guard duration > 0 else { throw SimulationError("the duration must be positive") } }
            guard (1...8).contains(threads) else { throw SimulationError("threads must be 1…8") }
            guard connectRate > 0 else { throw SimulationError("the connect rate must be positive") }
            guard tokenLifetime >= 60 else { throw SimulationError("tokens must live at least 60 s") }
            guard keepAlive >= 5 else { throw SimulationError("the keep-alive must be at least 5 s") }
            guard qos != .exactlyOnce else { throw SimulationError("telemetry QoS is 0 or 1 (Azure devices use 1)") }
            guard (1...65_000).contains(maximumInflight) else { throw SimulationError("the in-flight window must be 1…65000") }
        }
    }
}

/// A simulation that cannot start or run, with a message for the operator.
public struct SimulationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
