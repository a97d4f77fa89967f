import Histogram
import NIOCore

/// The publishers of one event loop, their latency histograms and, in rate mode, the 1 ms tick that
/// sends what is due. Lives on its loop and is touched only there (the orchestrator reaches it through
/// `NIOLoopBound`), so nothing here takes a lock.
final class PublisherLoop {
    let eventLoop: any EventLoop
    private var handlers: [PublisherHandler] = []
    private var byIndex: [Int: PublisherHandler] = [:]
    /// Latencies since the last progress report.
    private var interval = PublisherLoop.makeHistogram()
    /// Latencies of PUBACKs received in the measured window.
    private var measured = PublisherLoop.makeHistogram()
    private(set) var plan: RunPlan?
    private var ticker: RepeatedTask?

    /// Largest latency the histograms hold, µs (10 minutes); longer ones are recorded as this.
    static let highestLatencyMicros: UInt64 = 600_000_000
    /// How often rate mode looks for due messages.
    static let tick = TimeAmount.milliseconds(1)

    static func makeHistogram() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: highestLatencyMicros, numberOfSignificantValueDigits: .three)
    }

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func add(_ handler: PublisherHandler) {
        handlers.append(handler)
        byIndex[handler.index] = handler
    }

    func handler(at index: Int) -> PublisherHandler? { byIndex[index] }

    /// Starts publishing on every connected handler of this loop at `plan.start`.
    func start(_ plan: RunPlan) {
        eventLoop.preconditionInEventLoop()
        self.plan = plan
        for h in handlers { h.prepare(plan) }
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let delay = TimeAmount.nanoseconds(Int64(plan.start) - Int64(MonotonicClock.now()))
        if plan.interval > 0 {
            ticker = eventLoop.scheduleRepeatedTask(initialDelay: max(.zero, delay), delay: Self.tick) { _ in
                bound.value.tick()
            }
        } else {
            eventLoop.scheduleTask(in: max(.zero, delay)) {
                let now = MonotonicClock.now()
                for h in bound.value.handlers { h.sendDue(now: now) }
            }
        }
    }

    /// Rate mode: every publisher sends what is due.
    private func tick() {
        let now = MonotonicClock.now()
        for h in handlers { h.sendDue(now: now) }
        if let plan, now >= plan.measureEnd {
            ticker?.cancel()
            ticker = nil
        }
    }

    /// Records one PUBACK's latency (nanoseconds) received at `now`.
    @inline(__always)
    func record(latency: UInt64, at now: UInt64) {
        let micros = Swift.min(Swift.max(1, latency / 1000), Self.highestLatencyMicros)
        _ = interval.record(micros)
        if let plan, plan.isMeasured(now) { _ = measured.record(micros) }
    }

    /// Counts of all publishers, the interval histogram (then reset) and, if asked, the measured one.
    func snapshot(withMeasured: Bool) -> LoopSnapshot {
        let now = MonotonicClock.now()
        var counters = PublisherCounters()
        for h in handlers { counters = counters + h.counters(at: now) }
        let snap = LoopSnapshot(counters: counters, interval: interval, measured: withMeasured ? measured : nil)
        interval.reset()
        return snap
    }

    /// Counts of all publishers (cheap: for polling the drain).
    func counters() -> PublisherCounters {
        let now = MonotonicClock.now()
        var counters = PublisherCounters()
        for h in handlers { counters = counters + h.counters(at: now) }
        return counters
    }

    /// Sends DISCONNECT on every open connection and closes it; the future completes when all are closed.
    func finish() -> EventLoopFuture<Void> {
        ticker?.cancel()
        ticker = nil
        return EventLoopFuture.andAllComplete(handlers.map { $0.finish() }, on: eventLoop)
    }
}

/// What one event loop reports to the orchestrator.
struct LoopSnapshot: Sendable {
    var counters: PublisherCounters
    var interval: Histogram<UInt64>
    var measured: Histogram<UInt64>?
}

/// The monotonic clock every time in a run is read from.
enum MonotonicClock {
    @inline(__always) static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
}
