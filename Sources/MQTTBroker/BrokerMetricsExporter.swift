import Metrics

/// Publishes `BrokerStatistics` through swift-metrics under stable dotted names, so whatever metrics
/// backend the process bootstraps (Prometheus in the hub) sees them. Counters move by the delta since
/// the previous export; the hot path only touches relaxed atomics.
struct BrokerMetricsExporter {
    private let connectionsOpen = Gauge(label: "meridian.mqtt.connections.open")
    private let retainedMessages = Gauge(label: "meridian.mqtt.retained.messages")
    private let sessions = Gauge(label: "meridian.mqtt.sessions")
    private let counters: [(KeyPath<BrokerStatistics.Snapshot, Int>, Counter)] = [
        (\.connectionsAccepted, Counter(label: "meridian.mqtt.connections.accepted")),
        (\.connectionsRefused, Counter(label: "meridian.mqtt.connections.refused")),
        (\.authenticationFailures, Counter(label: "meridian.mqtt.authentication.failures")),
        (\.authorizationDenials, Counter(label: "meridian.mqtt.authorization.denials")),
        (\.messagesReceived, Counter(label: "meridian.mqtt.messages.received")),
        (\.messagesSent, Counter(label: "meridian.mqtt.messages.sent")),
        (\.messagesDropped, Counter(label: "meridian.mqtt.messages.dropped")),
        (\.messagesExpired, Counter(label: "meridian.mqtt.messages.expired")),
        (\.protocolErrors, Counter(label: "meridian.mqtt.protocol.errors")),
        (\.publishersPaused, Counter(label: "meridian.mqtt.publishers.paused")),
    ]
    private var last: BrokerStatistics.Snapshot?

    mutating func export(_ core: BrokerCore) {
        let now = core.statistics.snapshot()
        for (path, counter) in counters {
            let delta = now[keyPath: path] - (last?[keyPath: path] ?? 0)
            if delta > 0 { counter.increment(by: delta) }
        }
        connectionsOpen.record(now.connectionsOpen)
        retainedMessages.record(core.retained.withLock { $0.count })
        sessions.record(core.sessions.withLock { $0.count })
        last = now
    }
}
