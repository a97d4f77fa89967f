import HubEventLog
import Metrics

/// Publishes the event log's counters through swift-metrics (Prometheus on `/metrics`) as
/// `meridian_eventlog_*`: counters move by the delta since the previous export; the last batch's commit
/// latency (seconds) and the partitions failing to commit now (`meridian_eventlog_failing_partitions`,
/// above 0 while e.g. the disk is full) are gauges. Also: each consumer group's lag per partition
/// (`meridian_eventlog_consumer_lag{group,partition}`: events between its checkpoint, or the earliest
/// retained event without one, and the end of the partition), and the commit-latency histogram
/// (`meridian_eventlog_commit_latency`, fed per batch by `commitObserver`).
struct EventLogMetricsExporter {
    static let commitLatencyLabel = "meridian.eventlog.commit.latency"

    /// The observer to install in the log's configuration: every committed batch's latency.
    static func commitObserver() -> @Sendable (Duration, Int) -> Void {
        let timer = Metrics.Timer(label: commitLatencyLabel)
        return { latency, _ in timer.recordNanoseconds(latency.components.seconds * 1_000_000_000 + latency.components.attoseconds / 1_000_000_000) }
    }

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
    private var lagGauges: [String: Gauge] = [:]

    mutating func export(_ log: EventLog, groups: ConsumerGroups?) {
        if let groups { exportLag(log, groups) }
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
    static func run(_ log: EventLog, groups: ConsumerGroups? = nil, every interval: Duration = .seconds(1)) async {
        var exporter = EventLogMetricsExporter()
        while !Task.isCancelled {
            exporter.export(log, groups: groups)
            try? await Task.sleep(for: interval)
        }
    }

    private mutating func exportLag(_ log: EventLog, _ groups: ConsumerGroups) {
        for group in groups.names {
            for partition in 0..<log.partitionCount {
                // (Not `try?` on the checkpoint: it would flatten "no checkpoint yet" into a failure.)
                let checkpoint: Int64?
                do { checkpoint = try groups.checkpoint(group: group, partition: partition) } catch { continue }
                guard let bounds = try? log.bounds(partition: partition) else { continue }
                let position = max(checkpoint ?? bounds.earliest, bounds.earliest)
                let key = "\(group)/\(partition)"
                let gauge = lagGauges[key] ?? Gauge(label: "meridian.eventlog.consumer.lag", dimensions: [("group", group), ("partition", String(partition))])
                lagGauges[key] = gauge
                gauge.record(Double(max(0, bounds.next - position)))
            }
        }
    }
}
