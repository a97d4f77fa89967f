/// The QoS 1 messages of one connection that await their PUBACK: packet identifier → send time.
///
/// A fixed ring indexed by the identifier's low bits (capacity a power of two ≥ the window), so opening
/// and closing are a few array accesses and nothing is allocated after `init`. Identifiers are handed out
/// in order (1 … 65,535, then again from 1); if the next identifier's slot is still taken (an
/// acknowledgement overtaken by later ones), the window counts as full until it is freed. Pure: times
/// are inputs.
struct InflightWindow {
    /// Messages allowed in flight at once (`--inflight`).
    let limit: Int
    /// Identifier waiting in each slot, 0 when free.
    private var ids: [UInt16]
    /// Send time (nanoseconds, monotonic) of each slot's message.
    private var times: [UInt64]
    private let mask: Int
    private var nextID: UInt16 = 1
    /// Messages currently awaiting a PUBACK.
    private(set) var count = 0

    init(limit: Int) {
        precondition(limit >= 1 && limit <= 65_535, "window 1...65535")
        self.limit = limit
        var capacity = 1
        while capacity < limit { capacity <<= 1 }
        ids = [UInt16](repeating: 0, count: capacity)
        times = [UInt64](repeating: 0, count: capacity)
        mask = capacity - 1
    }

    /// Whether another message may be sent now.
    var canOpen: Bool { count < limit && ids[Int(nextID) & mask] == 0 }

    /// Takes the next identifier for a message sent (or due) at `time`; nil when the window is full.
    mutating func open(at time: UInt64) -> UInt16? {
        guard canOpen else { return nil }
        let id = nextID
        let slot = Int(id) & mask
        ids[slot] = id
        times[slot] = time
        count += 1
        nextID = id == UInt16.max ? 1 : id + 1
        return id
    }

    /// Releases `id` on its PUBACK; returns the time it was sent, or nil for an identifier not in flight.
    mutating func close(_ id: UInt16) -> UInt64? {
        let slot = Int(id) & mask
        guard id != 0, ids[slot] == id else { return nil }
        ids[slot] = 0
        count -= 1
        return times[slot]
    }
}
