/// A running sum with Neumaier's compensation: the rounding error of every addition is kept and added
/// back at the end, so the result is (almost always) the correctly rounded exact sum whatever the order
/// of additions. That is what lets a bucket summed from roll-up partial sums agree with the same bucket
/// summed point by point (they can still differ in the last bit in rare cases; tests allow 1e-12 relative).
struct CompensatedSum: Sendable, Hashable {
    private(set) var sum = 0.0
    private(set) var compensation = 0.0

    init() {}

    @inline(__always) mutating func add(_ value: Double) {
        let total = sum + value
        if sum.magnitude >= value.magnitude {
            compensation += (sum - total) + value
        } else {
            compensation += (value - total) + sum
        }
        sum = total
    }

    mutating func add(_ other: CompensatedSum) {
        add(other.sum)
        add(other.compensation)
    }

    var value: Double {
        let result = sum + compensation
        // Infinities and NaN: the compensation term is meaningless, report the plain sum.
        return result.isFinite ? result : sum
    }
}
