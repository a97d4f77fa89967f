import HubAuth
import HubCore
import PropertyBased

/// The key and expiry of the protocol reference's §1.1 test vectors.
enum Vectors {
    static let key = try! SharedAccessKey(base64: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
    static let otherKey = try! SharedAccessKey(bytes: Array(repeating: 7, count: 32))
    static let expiry: Int64 = 1_700_000_000
    static let host = "myhub.azure-devices.net"
    static let deviceToken =
        "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=i%2BYmMcSSZc4KzBi6ejz3l0iL%2B2sN0CE3q6vSm837h2g%3D&se=1700000000"
    static let serviceToken =
        "SharedAccessSignature sr=myhub.azure-devices.net&sig=iIzEw6hi6GK79RY5jNXO6QeQkSL/Ax4zTmy44X2G1VY%3D&se=1700000000&skn=iothubowner"
}

func device(_ id: String, module: String? = nil) -> IdentityID {
    IdentityID(device: DeviceID(rawValue: id)!, module: module.map { ModuleID(rawValue: $0)! })
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

    /// A generator whose values come from `body`, seeded from PropertyBased's random source.
    static func generator<T>(_ body: @Sendable @escaping (inout Dice) -> T) -> Generator<T, Shrink.None<T>> {
        Generator { rng in
            var dice = Dice(rng: SplitMix64(state: rng.next()))
            return body(&dice)
        }
    }
}
