/// One series' unsealed points and ingest bookkeeping.
///
/// The head holds the newest points, sorted, all in one partition and all newer than every sealed point
/// of the series; it is sealed into a block at `headPoints` points or when a point crosses into the next
/// partition. Out-of-order points that fit the head's span are inserted into it; older ones (which may
/// duplicate sealed points, or lie in the previous partition) wait in the small out-of-order buffer, sealed
/// together with the head into their own block(s). Equal times replace: last write wins.
struct SeriesHead: Sendable {
    var times: [Int64] = []
    var values: [Double] = []
    var oooTimes: [Int64] = []
    var oooValues: [Double] = []
    /// The newest accepted time (`Int64.min`: none yet) and the value there (the hot "last value").
    var maxTime = Int64.min
    var lastValue = 0.0
    /// The newest time in sealed blocks.
    var sealedMaxTime = Int64.min
    /// The partition of the head's points (valid while `times` is not empty).
    var partitionStart = Int64.min
    var partitionEnd = Int64.min
    /// The WAL segment of the oldest unsealed point (`UInt32.max` when nothing is unsealed).
    var oldestSegment = UInt32.max
    /// The WAL record being applied and how many of this series' points it had so far (for seal markers).
    var ordinalPosition = UInt64.max
    var ordinal: UInt32 = 0

    var isEmpty: Bool { times.isEmpty && oooTimes.isEmpty }
    var unsealedCount: Int { times.count + oooTimes.count }

    /// The oldest unsealed time.
    var minUnsealedTime: Int64 { Swift.min(times.first ?? .max, oooTimes.first ?? .max) }

    /// Inserts an out-of-order point into the head; returns whether a point was added (not replaced).
    mutating func insertIntoHead(_ time: Int64, _ value: Double) -> Bool {
        Self.insert(time, value, times: &times, values: &values)
    }

    /// Inserts a point into the out-of-order buffer; returns whether a point was added (not replaced).
    mutating func insertIntoBuffer(_ time: Int64, _ value: Double) -> Bool {
        Self.insert(time, value, times: &oooTimes, values: &oooValues)
    }

    /// Inserts into sorted parallel arrays; an equal time is replaced. Returns whether a point was added.
    @discardableResult
    static func insert(_ time: Int64, _ value: Double, times: inout [Int64], values: inout [Double]) -> Bool {
        var low = 0, high = times.count
        while low < high {
            let mid = (low + high) / 2
            if times[mid] < time { low = mid + 1 } else { high = mid }
        }
        if low < times.count, times[low] == time {
            values[low] = value
            return false
        }
        times.insert(time, at: low)
        values.insert(value, at: low)
        return true
    }
}
