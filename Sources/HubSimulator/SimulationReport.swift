import HubCore
import Histogram

/// What a fleet did, counted per event loop and summed.
public struct SimulationCounters: Sendable, Hashable {
    /// Drones connected now.
    public var connected = 0
    /// Connection attempts, and those that failed (by reason).
    public var connectAttempts = 0
    public var connectFailures: [String: Int] = [:]
    /// Connections lost without our DISCONNECT, and reconnects done to renew a SAS token.
    public var disconnects = 0
    public var renewals = 0
    /// Messages published, by kind.
    public var flightMessages = 0
    public var statusMessages = 0
    public var methodResponses = 0
    public var reportedPatches = 0
    /// QoS 1 messages acknowledged, dropped because the in-flight window was full, or never acknowledged
    /// (the connection went down first).
    public var acknowledged = 0
    public var dropped = 0
    public var unacknowledged = 0
    /// From the hub: cloud-to-device commands (accepted), direct methods, desired patches, twin answers
    /// with an error status.
    public var commands = 0
    public var commandsAccepted = 0
    public var methods = 0
    public var desiredPatches = 0
    public var twinErrors = 0

    public init() {}

    /// Telemetry messages published.
    public var telemetry: Int { flightMessages + statusMessages }

    static func + (a: Self, b: Self) -> Self {
        var c = a
        c.connected += b.connected
        c.connectAttempts += b.connectAttempts
        c.connectFailures.merge(b.connectFailures, uniquingKeysWith: +)
        c.disconnects += b.disconnects
        c.renewals += b.renewals
        c.flightMessages += b.flightMessages
        c.statusMessages += b.statusMessages
        c.methodResponses += b.methodResponses
        c.reportedPatches += b.reportedPatches
        c.acknowledged += b.acknowledged
        c.dropped += b.dropped
        c.unacknowledged += b.unacknowledged
        c.commands += b.commands
        c.commandsAccepted += b.commandsAccepted
        c.methods += b.methods
        c.desiredPatches += b.desiredPatches
        c.twinErrors += b.twinErrors
        return c
    }
}

/// About once a second while the fleet flies.
public struct SimulationProgress: Sendable {
    public var elapsed: Double
    public var drones: Int
    public var counters: SimulationCounters
    /// Telemetry messages per second over the last interval.
    public var rate: Double
    /// p99 publish → PUBACK over the last interval, in milliseconds (nil without acknowledgements).
    public var p99: Double?

    /// One line: `12 s  9,998/10,000 connected  2,499 msg/s  p99 4.1 ms  flight 29,990 status 7,500`.
    public var line: String {
        let p = p99.map { "p99 \(DroneFormat.fixed($0, decimals: 1)) ms" } ?? "p99 -"
        return "\(DroneFormat.fixed(elapsed, decimals: 0)) s  \(counters.connected)/\(drones) connected  \(DroneFormat.fixed(rate, decimals: 0)) msg/s  " + p
            + "  flight \(counters.flightMessages) status \(counters.statusMessages) acked \(counters.acknowledged)"
            + (counters.commands + counters.methods > 0 ? " commands \(counters.commands) methods \(counters.methods)" : "")
    }
}

/// The summary of a run: counters and publish → PUBACK latency percentiles.
public struct SimulationReport: Sendable {
    public var drones: Int
    public var seconds: Double
    public var counters: SimulationCounters
    /// Percentiles of publish → PUBACK in milliseconds (p50, p90, p99, p99.9, max), nil when nothing was acknowledged.
    public var latency: [String: Double]?
    /// The seconds the percentiles cover (the run after its warm-up).
    public var latencySeconds: Double

    /// Telemetry messages per second over the run.
    public var rate: Double { seconds > 0 ? Double(counters.telemetry) / seconds : 0 }

    static func percentiles(_ histogram: Histogram<UInt64>) -> [String: Double]? {
        guard histogram.totalCount > 0 else { return nil }
        var result: [String: Double] = [:]
        for (name, p) in [("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9)] {
            result[name] = Double(histogram.valueAtPercentile(p)) / 1000
        }
        result["max"] = Double(histogram.max) / 1000
        return result
    }

    /// The report as JSON (for `--summary-json` and scripts).
    public func json() -> JSONValue {
        let c = counters
        var object = JSONObject([
            "drones": .int(drones), "seconds": .number(DroneFormat.fixed(seconds, decimals: 1)), "messagesPerSecond": .number(DroneFormat.fixed(rate, decimals: 1)),
            "connected": .int(c.connected), "connectAttempts": .int(c.connectAttempts), "disconnects": .int(c.disconnects),
            "renewals": .int(c.renewals), "flightMessages": .int(c.flightMessages), "statusMessages": .int(c.statusMessages),
            "methodResponses": .int(c.methodResponses), "reportedPatches": .int(c.reportedPatches), "acknowledged": .int(c.acknowledged),
            "dropped": .int(c.dropped), "unacknowledged": .int(c.unacknowledged), "commands": .int(c.commands),
            "commandsAccepted": .int(c.commandsAccepted), "methods": .int(c.methods), "desiredPatches": .int(c.desiredPatches),
            "twinErrors": .int(c.twinErrors),
        ])
        var failures = JSONObject()
        for (reason, count) in c.connectFailures.sorted(by: { $0.key < $1.key }) { failures[reason] = .int(count) }
        object["connectFailures"] = .object(failures)
        object["latencySeconds"] = .number(DroneFormat.fixed(latencySeconds, decimals: 1))
        if let latency {
            var l = JSONObject()
            for key in ["p50", "p90", "p99", "p99.9", "max"] { l[key] = .number(DroneFormat.fixed(latency[key] ?? 0, decimals: 3)) }
            object["pubackLatencyMs"] = .object(l)
        } else {
            object["pubackLatencyMs"] = .null
        }
        return .object(object)
    }

    /// A few lines for the terminal.
    public func text() -> String {
        let c = counters
        var lines = [
            "\(drones) drones, \(DroneFormat.fixed(seconds, decimals: 0)) s: \(c.flightMessages) flight + \(c.statusMessages) status messages "
                + "(\(DroneFormat.fixed(rate, decimals: 1)) msg/s), \(c.acknowledged) acknowledged",
            "connections: \(c.connected) up at the end, \(c.connectAttempts) attempts, \(c.disconnects) lost, \(c.renewals) SAS renewals",
            "from the hub: \(c.commands) commands (\(c.commandsAccepted) accepted), \(c.methods) methods, \(c.desiredPatches) desired patches; "
                + "\(c.reportedPatches) reported patches sent",
        ]
        if let latency {
            let parts = ["p50", "p90", "p99", "p99.9", "max"].map { "\($0) \(DroneFormat.fixed(latency[$0] ?? 0, decimals: 2)) ms" }
            lines.append("publish → PUBACK: " + parts.joined(separator: "  "))
        }
        if c.dropped + c.unacknowledged > 0 { lines.append("not acknowledged: \(c.unacknowledged) (connection lost), dropped: \(c.dropped) (window full)") }
        for (reason, count) in c.connectFailures.sorted(by: { $0.value > $1.value }).prefix(5) { lines.append("connect failure ×\(count): \(reason)") }
        return lines.joined(separator: "\n")
    }
}
