import HubTestKit
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
