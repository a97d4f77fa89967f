import HubCore
import HubMessaging
import PropertyBased
import Synchronization
import Testing

/// A device id from a literal known to be valid.
func dev(_ raw: String) -> DeviceID { DeviceID(rawValue: raw)! }

/// A time `seconds` after an arbitrary fixed origin (2024-03-14T09:54:49Z).
func at(_ seconds: Double) -> Timestamp { Timestamp(rawValue: 1_710_410_089_000 + Int64(seconds * 1000)) }

/// A settable clock for the services' `now` closures.
final class TestClock: Sendable {
    private let time: Mutex<Timestamp>

    init(_ start: Timestamp = at(0)) { time = Mutex(start) }

    var now: Timestamp { time.withLock { $0 } }

    func advance(seconds: Double) {
        time.withLock { $0 = Timestamp(rawValue: $0.rawValue + Int64(seconds * 1000)) }
    }

    /// The clock as the services take it.
    var closure: @Sendable () -> Timestamp { { self.now } }
}

/// Sequential tokens (`t1`, `t2`, …) so tests can name them.
final class CountingTokens: Sendable {
    private let next = Mutex(1)
    init() {}
    func make() -> String {
        next.withLock { n in
            defer { n += 1 }
            return "t\(n)"
        }
    }
    var closure: @Sendable () -> String { { self.make() } }
}

/// SplitMix64: a tiny deterministic generator, seeded from PropertyBased's generator so that a failing
/// case is reproducible with `.fixedSeed(...)`.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random choices for the property tests' hand-written generators.
struct Dice {
    var rng: SplitMix64

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func bool(_ probability: Double = 0.5) -> Bool { Double.random(in: 0..<1, using: &rng) < probability }
    mutating func pick<T>(_ values: [T]) -> T { values[int(0...(values.count - 1))] }

    /// A string of `length` characters drawn from `alphabet`.
    mutating func string(_ alphabet: [Character], length: ClosedRange<Int>) -> String {
        String((0..<int(length)).map { _ in pick(alphabet) })
    }

    /// A generator whose values come from `body`, seeded from PropertyBased's random source.
    static func generator<T>(_ body: @Sendable @escaping (inout Dice) -> T) -> Generator<T, Shrink.None<T>> {
        Generator { rng in
            var dice = Dice(rng: SplitMix64(state: rng.next()))
            return body(&dice)
        }
    }
}

/// Every printable ASCII character (0x20…0x7E), so `/ & = % + $ ?` and space all occur.
let printableASCII: [Character] = (0x20...0x7E).map { Character(Unicode.Scalar(UInt8($0))) }

/// Asserts that `body` throws a `MessagingError` with `code`.
func expectMessagingError(
    _ code: MessagingError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    let error = #expect(throws: MessagingError.self, sourceLocation: sourceLocation) { try body() }
    #expect(error?.code == code, "expected \(code), got \(error.map { "\($0)" } ?? "nothing")", sourceLocation: sourceLocation)
}

/// Async variant of `expectMessagingError`.
func expectMessagingError(
    _ code: MessagingError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async {
    let error = await #expect(throws: MessagingError.self, sourceLocation: sourceLocation) { try await body() }
    #expect(error?.code == code, "expected \(code), got \(error.map { "\($0)" } ?? "nothing")", sourceLocation: sourceLocation)
}
