/// When one publisher's messages are due in rate mode: every `interval` nanoseconds from `start`.
///
/// Each message keeps its intended send time even when it leaves late (window full, loop busy), and
/// latency is measured from that time, so a stalled server is charged for the whole wait instead of
/// the generator quietly sending less (no coordinated omission). Pure: times are inputs.
struct SendSchedule {
    /// Nanoseconds between two messages of this publisher.
    let interval: UInt64
    /// The intended time of the next message.
    private(set) var next: UInt64
    /// No message is due at or after this time (the end of the measured window).
    let end: UInt64

    init(start: UInt64, interval: UInt64, end: UInt64) {
        precondition(interval > 0)
        self.interval = interval
        self.next = start
        self.end = end
    }

    /// The intended time of the next message if it is due at `now`, without taking it.
    func due(at now: UInt64) -> UInt64? {
        next <= now && next < end ? next : nil
    }

    /// Takes the next message (after `due` said it is due).
    mutating func take() { next &+= interval }

    /// Messages due before `now` (capped at `end`) that have not been taken: the backlog.
    func backlog(at now: UInt64) -> UInt64 {
        let until = min(now, end)
        return next < until ? (until - next + interval - 1) / interval : 0
    }
}
