import PropertyBased

/// SplitMix64: a tiny deterministic generator, seeded from PropertyBased's generator so that a failing
/// case is reproducible with `.fixedSeed(...)`.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(state: UInt64) {
        self.state = state
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random choices for the property tests' hand-written generators.
public struct Dice {
    public var rng: SplitMix64

    public init(rng: SplitMix64) {
        self.rng = rng
    }

    public mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    public mutating func bool(_ probability: Double = 0.5) -> Bool { Double.random(in: 0..<1, using: &rng) < probability }
    public mutating func pick<T>(_ values: [T]) -> T { values[int(0...(values.count - 1))] }

    /// A string of `length` characters drawn from `alphabet`.
    public mutating func string(_ alphabet: [Character], length: ClosedRange<Int>) -> String {
        String((0..<int(length)).map { _ in pick(alphabet) })
    }

    /// A generator whose values come from `body`, seeded from PropertyBased's random source.
    public static func generator<T>(_ body: @Sendable @escaping (inout Dice) -> T) -> Generator<T, Shrink.None<T>> {
        Generator { rng in
            var dice = Dice(rng: SplitMix64(state: rng.next()))
            return body(&dice)
        }
    }
}
