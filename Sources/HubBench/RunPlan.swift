/// The timeline of a run, in monotonic nanoseconds (`NIODeadline.uptimeNanoseconds`), handed to every
/// event loop once all publishers are connected.
struct RunPlan: Sendable, Hashable {
    /// Publishing starts (warm-up begins).
    var start: UInt64
    /// The measured window starts (warm-up ends).
    var measureStart: UInt64
    /// The measured window ends; nothing is sent from here on.
    var measureEnd: UInt64
    /// Nanoseconds between two messages of one publisher in rate mode; 0 = flat out.
    var interval: UInt64
    /// Publishers in the run, to stagger their schedules evenly over one interval.
    var publishers: Int

    /// Whether an event at `time` falls in the measured window.
    @inline(__always) func isMeasured(_ time: UInt64) -> Bool { time >= measureStart && time < measureEnd }

    /// The schedule of publisher `index` in rate mode, nil when flat out.
    func schedule(forPublisher index: Int) -> SendSchedule? {
        guard interval > 0 else { return nil }
        let offset = interval / UInt64(max(1, publishers)) * UInt64(index % max(1, publishers))
        return SendSchedule(start: start + offset, interval: interval, end: measureEnd)
    }
}

/// Counts of one publisher, summed per event loop and then over the run.
struct PublisherCounters: Sendable, Hashable {
    /// Messages written to the socket.
    var sent: UInt64 = 0
    /// PUBACKs received for messages in flight.
    var acked: UInt64 = 0
    /// Messages sent inside the measured window.
    var sentMeasured: UInt64 = 0
    /// PUBACKs received inside the measured window.
    var ackedMeasured: UInt64 = 0
    /// PUBACKs for identifiers not in flight.
    var unknownAcks: UInt64 = 0
    /// Connections the broker closed (or that failed) after CONNACK.
    var disconnects: UInt64 = 0
    /// Protocol errors and channel errors.
    var errors: UInt64 = 0
    /// Messages in flight now.
    var inflight: UInt64 = 0
    /// Rate mode: messages due but not yet sent (window full or loop late).
    var backlog: UInt64 = 0
    /// Connections open now.
    var open: UInt64 = 0

    static func + (a: Self, b: Self) -> Self {
        var s = a
        s.sent += b.sent
        s.acked += b.acked
        s.sentMeasured += b.sentMeasured
        s.ackedMeasured += b.ackedMeasured
        s.unknownAcks += b.unknownAcks
        s.disconnects += b.disconnects
        s.errors += b.errors
        s.inflight += b.inflight
        s.backlog += b.backlog
        s.open += b.open
        return s
    }
}
