import HubEventLog
import Metrics

/// Publishes the event log's counters through swift-metrics (Prometheus on `/metrics`) as
/// `meridian_eventlog_*`: counters move by the delta since the previous export; the last batch's commit
/// latency (seconds) and the partitions failing to commit now (`meridian_eventlog_failing_partitions`,
/// above 0 while e.g. the disk is full) are gauges.
struct EventLogMetricsExporter {
    private let counters: [(KeyPath<EventLog.Counters, Int64>, Counter)] = [
        (\.appends, Counter(label: "meridian.eventlog.appends")),
        (\.bytes, Counter(label: "meridian.eventlog.bytes")),
        (\.batches, Counter(label: "meridian.eventlog.batches")),
        (\.failedAppends, Counter(label: "meridian.eventlog.failed.appends")),
        (\.fsyncFailures, Counter(label: "meridian.eventlog.fsync.failures")),
        (\.writeFailures, Counter(label: "meridian.eventlog.write.failures")),
        (\.overloaded, Counter(label: "meridian.eventlog.overloaded")),
        (\.retentionDeletions, Counter(label: "meridian.eventlog.retention.deletions")),
    ]
    private let lastBatchLatency = Gauge(label: "meridian.eventlog.last.batch.latency.seconds")
    /// Partitions failing to commit now (disk full, I/O errors): above 0, devices get no acknowledgements.
    private let failingPartitions = Gauge(label: "meridian.eventlog.failing.partitions")
    private var last = EventLog.Counters()

    mutating func export(_ log: EventLog) {
        let now = log.counters
        for (path, counter) in counters {
            let delta = now[keyPath: path] - last[keyPath: path]
            if delta > 0 { counter.increment(by: delta) }
        }
        lastBatchLatency.record(Double(now.lastBatchLatencyNanoseconds) / 1_000_000_000)
        failingPartitions.record(Double(now.failingPartitions))
        last = now
    }

    /// Exports every `interval` until the task is cancelled.
    static func run(_ log: EventLog, every interval: Duration = .seconds(1)) async {
        var exporter = EventLogMetricsExporter()
        while !Task.isCancelled {
            exporter.export(log)
            try? await Task.sleep(for: interval)
        }
    }
}
