import HubCore
import HubEventLog
import HubHTTPAPI
import HubStorage
import HubTimeSeries
import Logging
import Metrics

extension MeridianServer {
    /// The time-series store in `<data-dir>/timeseries`, fed from the event log, with its retention
    /// (`timeseries-retention-days`) and out-of-order window (`timeseries-window-seconds`).
    func openTimeSeries(log: EventLog, alarms: any AlarmStore) throws(HubServerError) -> (store: TimeSeriesStore, feed: TimeSeriesFeed, endpoint: TimeSeriesEndpoint) {
        let directory = configuration.dataDirectory + "/timeseries"
        var settings = TimeSeriesStore.Configuration()
        let day = 86_400
        settings.retention = RetentionPolicy(
            raw: .seconds(configuration.timeseriesRetentionDays * day), minute: .seconds(configuration.timeseriesRetentionDays * 3 * day),
            hour: .seconds(configuration.timeseriesRetentionDays * 24 * day),
            rules: configuration.timeseriesRetentionRules.map { rule in
                RetentionRule(
                    devicePattern: rule.devicePattern, measurePattern: rule.measurePattern, raw: .seconds(rule.days * day),
                    minute: .seconds(rule.days * 3 * day), hour: .seconds(rule.days * 24 * day))
            })
        settings.outOfOrderWindow = .seconds(configuration.timeseriesWindowSeconds)
        settings.maximumStringValues = configuration.timeseriesMaxStrings
        let store: TimeSeriesStore
        do throws(TimeSeriesError) {
            store = try TimeSeriesStore(directory: directory, configuration: settings)
        } catch {
            throw HubServerError(.dataDirectory, "the time-series store in \(directory) cannot be opened: \(error.message)")
        }
        let recovery = store.recovery
        if recovery.replayedPoints > 0 || recovery.truncatedWALBytes > 0 {
            logger.info("time series: recovered \(recovery.replayedPoints) points from the write-ahead log (\(recovery.truncatedWALBytes) torn bytes cut)")
        }
        var mapping = MeasureMapping()
        mapping.tagFields = configuration.timeseriesTagFields
        mapping.ignoredFields = Set(configuration.timeseriesIgnoredFields)
        let feed = TimeSeriesFeed(log: log, store: store, mapping: mapping, positionsPath: directory + "/feed.json", logger: logger)
        let endpoint = TimeSeriesEndpoint(
            store: store, feedStatus: { feed.status.withLock { $0 } },
            alarmCounts: { from, to in (try? await alarms.raisedCounts(from: from, to: to)) ?? [:] })
        return (store, feed, endpoint)
    }

    /// Feeds the store, runs its maintenance (sealing, compaction, retention) once a minute and exports
    /// its metrics, until cancelled; then closes it.
    static func runTimeSeries(_ store: TimeSeriesStore, feed: TimeSeriesFeed, logger: Logger) async {
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await feed.run() }
            tasks.addTask {
                var metrics = TimeSeriesMetricsExporter()
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(10))
                    metrics.export(store.statistics, feed: feed.status.withLock { $0 })
                }
            }
            tasks.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(60))
                    guard !Task.isCancelled else { break }
                    do throws(TimeSeriesError) {
                        _ = try store.maintain(now: WallClock.nowMillis())
                    } catch {
                        logger.error("time series: maintenance failed: \(error.message)")
                    }
                }
            }
            await tasks.waitForAll()
        }
        do throws(TimeSeriesError) {
            try store.close()
        } catch {
            logger.error("time series: closing the store failed: \(error.message)")
        }
    }
}

/// `meridian_timeseries_*`: series, points in memory and sealed, bytes on disk, distinct strings, points
/// refused (late, future, strings the dictionary refused), and the
/// feed's events, points and lag.
struct TimeSeriesMetricsExporter {
    private let series = Gauge(label: "meridian.timeseries.series")
    private let headPoints = Gauge(label: "meridian.timeseries.head_points")
    private let bytes = Gauge(label: "meridian.timeseries.bytes")
    private let rejected = Counter(label: "meridian.timeseries.rejected_points")
    private let points = Counter(label: "meridian.timeseries.feed_points")
    private let events = Counter(label: "meridian.timeseries.feed_events")
    private let lag = Gauge(label: "meridian.timeseries.feed_lag")
    private let strings = Gauge(label: "meridian.timeseries.string_values")
    private var last = TimeSeriesFeedStatus()
    private var lastRejected = 0

    mutating func export(_ statistics: TimeSeriesStatistics, feed: TimeSeriesFeedStatus) {
        series.record(Double(statistics.series))
        headPoints.record(Double(statistics.headPoints))
        bytes.record(Double(statistics.bytesOnDisk))
        strings.record(Double(statistics.stringValues))
        let refused = statistics.rejectedLate + statistics.rejectedFuture + statistics.rejectedStrings
        if refused > lastRejected { rejected.increment(by: refused - lastRejected) }
        lastRejected = refused
        if feed.points > last.points { points.increment(by: feed.points - last.points) }
        if feed.events > last.events { events.increment(by: feed.events - last.events) }
        lag.record(Double(feed.lag))
        last = feed
    }
}
