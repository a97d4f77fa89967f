import Metrics
import Prometheus
import Synchronization

/// The process's metrics: swift-metrics bootstrapped once with a Prometheus registry, whose text
/// exposition the HTTP listeners serve on `/metrics`.
///
/// Metric labels use dotted names in code (`meridian.mqtt.messages.received`); Prometheus sees them with
/// `_` (`meridian_mqtt_messages_received`). Bootstrapping is process-wide and happens once, however many
/// servers a process runs (tests run several).
enum HubMetrics {
    static let registry = PrometheusCollectorRegistry()
    private static let bootstrapped = Mutex(false)

    /// Installs the Prometheus backend for swift-metrics, once per process.
    static func bootstrap() {
        let first = bootstrapped.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in (sanitize(name), labels.map { (sanitize($0.0), $0.1) }) }
        // Group commits take milliseconds: finer buckets than the default's 5 ms floor.
        factory.durationHistogramBuckets[sanitize(EventLogMetricsExporter.commitLatencyLabel)] = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
    }

    /// The Prometheus text exposition format (0.0.4) of every metric.
    static func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }

    /// A Prometheus metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`, other characters become `_`.
    static func sanitize(_ name: String) -> String {
        var out = ""
        out.reserveCapacity(name.utf8.count)
        for (index, scalar) in name.unicodeScalars.enumerated() {
            let ok = scalar.isASCII && (scalar.properties.isAlphabetic || scalar == "_" || scalar == ":"
                || (index > 0 && ("0"..."9").contains(scalar)))
            out.unicodeScalars.append(ok ? scalar : "_")
        }
        return out
    }
}
