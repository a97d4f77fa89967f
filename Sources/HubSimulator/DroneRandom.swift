/// The simulator's seeded random numbers: xoshiro256** seeded through SplitMix64.
///
/// Every random choice of the layout and of each drone comes from one of these, so a simulation is a
/// pure function of its seed, drone index and the times it is advanced to. It is the same on every
/// platform and Swift version (unlike `SystemRandomNumberGenerator` or `Double.random(in:using:)`, whose
/// algorithms are not promised to stay the same).
public struct DroneRandom: RandomNumberGenerator, Sendable, Hashable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator for `seed`.
    public init(seed: UInt64) {
        var state = seed
        s0 = Self.splitMix(&state)
        s1 = Self.splitMix(&state)
        s2 = Self.splitMix(&state)
        s3 = Self.splitMix(&state)
    }

    /// An independent generator for one `stream` (a drone index, a purpose) of `seed`.
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: Self.mix(seed, stream))
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = (s1 &* 5).rotatedLeft(7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3.rotatedLeft(45)
        return result
    }

    /// A uniform double in 0..<1 (53 random bits).
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform double in `range`.
    public mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * unit()
    }

    /// A uniform integer in `range` (Lemire's multiply-high; the bias is below 2⁻⁵⁰ for simulator ranges).
    public mutating func integer(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(truncatingIfNeeded: range.upperBound &- range.lowerBound) &+ 1
        guard span != 0 else { return Int(truncatingIfNeeded: next()) }
        return range.lowerBound &+ Int(truncatingIfNeeded: next().multipliedFullWidth(by: span).high)
    }

    /// A random version-4 UUID in lower case, `xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx` (Y is 8, 9, a or b).
    public mutating func uuidV4() -> String {
        let high = (next() & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let low = (next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        var text = [UInt8]()
        text.reserveCapacity(36)
        func append(_ value: UInt64, nibbles: Int) {
            for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
                text.append(Self.hexDigits[Int((value >> UInt64(shift)) & 0xF)])
            }
        }
        append(high >> 32, nibbles: 8)
        text.append(UInt8(ascii: "-"))
        append(high >> 16, nibbles: 4)
        text.append(UInt8(ascii: "-"))
        append(high, nibbles: 4)
        text.append(UInt8(ascii: "-"))
        append(low >> 48, nibbles: 4)
        text.append(UInt8(ascii: "-"))
        append(low, nibbles: 12)
        return String(decoding: text, as: UTF8.self)
    }

    /// A deterministic value in -1..<1 from three keys, without any generator state: per-message sensor
    /// noise that must not depend on how often it is read.
    public static func noise(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> Double {
        var state = mix(mix(a, b), c)
        return Double(splitMix(&state) >> 11) * 0x1p-52 - 1
    }

    /// Combines two keys into one well-mixed seed.
    public static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var state = a ^ (b &* 0x9E37_79B9_7F4A_7C15).rotatedLeft(29)
        return splitMix(&state)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(_ count: UInt64) -> UInt64 {
        (self << count) | (self >> (64 - count))
    }
}
