import MQTTCodec
import NIOCore

/// The per-message state of one publisher: its QoS 1 window, rate schedule, sequence number, counts
/// and send buffer. A value type with one mutating method per event, so that a whole batch is a single
/// access to the handler's stored property (the runtime's exclusivity checks on class properties would
/// otherwise run several times per message). Pure: time is an input; no channel.
struct PublishFlow {
    private(set) var window: InflightWindow
    /// Rate mode's schedule, nil when flat out.
    private(set) var schedule: SendSchedule?
    private(set) var counts = PublisherCounters()
    private var sequence: UInt64 = 0
    /// The send buffer: cleared and refilled by every batch.
    private(set) var out: ByteBuffer

    init(inflight: Int, bufferCapacity: Int) {
        window = InflightWindow(limit: inflight)
        out = ByteBuffer()
        out.reserveCapacity(minimumWritableBytes: bufferCapacity)
    }

    /// A 5.0 CONNACK's Receive Maximum below our window: shrink it (before anything is sent).
    mutating func clampWindow(to limit: Int) {
        if limit < window.limit { window = InflightWindow(limit: limit) }
    }

    /// The run started.
    mutating func start(schedule: SendSchedule?) { self.schedule = schedule }

    /// Writes into `out` every message that may be sent at `now` and returns how many: QoS 1 flat out,
    /// all the window allows until the window's end; QoS 1 in rate mode, the due ones the window allows;
    /// QoS 0 in rate mode, the due ones (at most `maximumBatch`); QoS 0 flat out, `maximumBatch`.
    mutating func fill(now: UInt64, plan: RunPlan, template: PublishTemplate, qos: MQTTQoS, maximumBatch: Int) -> Int {
        out.clear()
        var count = 0
        switch (qos, schedule != nil) {
        case (.atLeastOnce, true):
            while window.canOpen, let due = schedule!.due(at: now) {
                schedule!.take()
                template.write(into: &out, packetID: window.open(at: due)!, sequence: sequence)
                sequence &+= 1
                count += 1
            }
        case (.atLeastOnce, false):
            guard now < plan.measureEnd else { break }
            while let id = window.open(at: now) {
                template.write(into: &out, packetID: id, sequence: sequence)
                sequence &+= 1
                count += 1
            }
        case (_, true):
            while count < maximumBatch, schedule!.due(at: now) != nil {
                schedule!.take()
                template.write(into: &out, packetID: 0, sequence: sequence)
                sequence &+= 1
                count += 1
            }
        case (_, false):
            guard now < plan.measureEnd else { break }
            for _ in 0..<maximumBatch {
                template.write(into: &out, packetID: 0, sequence: sequence)
                sequence &+= 1
            }
            count = maximumBatch
        }
        counts.sent &+= UInt64(count)
        if plan.isMeasured(now) { counts.sentMeasured &+= UInt64(count) }
        return count
    }

    /// A PUBACK for `id` at `now`: the latency in nanoseconds, or nil for an identifier not in flight.
    mutating func acknowledged(_ id: UInt16, at now: UInt64, plan: RunPlan?) -> UInt64? {
        guard let sentAt = window.close(id) else {
            counts.unknownAcks &+= 1
            return nil
        }
        counts.acked &+= 1
        if let plan, plan.isMeasured(now) { counts.ackedMeasured &+= 1 }
        return now > sentAt ? now - sentAt : 0
    }

    mutating func countError() { counts.errors &+= 1 }

    mutating func countDisconnect() { counts.disconnects &+= 1 }
}
