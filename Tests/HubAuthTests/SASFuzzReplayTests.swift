import Crypto
import Foundation
import HubAuth
import HubCore
import Testing

/// Replays the FuzzSASToken seed corpus and every saved `FuzzSASToken-*` finding with the harness's
/// oracle (FuzzTesting/Sources/FuzzSASToken): no trap, `isSigned` agrees with an independent HMAC of
/// the raw `sr` + "\n" + `se`, and `make` round-trips the resource.
@Suite("FuzzSASToken replay")
struct SASFuzzReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let seeds = root.appendingPathComponent("FuzzTesting/Corpus/FuzzSASToken")
    static let regressions = root.appendingPathComponent("Tests/Fixtures/fuzz-regressions")
    static let key = try! SharedAccessKey(bytes: Array(0...31))

    static func files() -> [String] {
        let fm = FileManager.default
        let seeds = ((try? fm.contentsOfDirectory(atPath: seeds.path)) ?? []).map { "FuzzTesting/Corpus/FuzzSASToken/\($0)" }
        let found = ((try? fm.contentsOfDirectory(atPath: regressions.path)) ?? []).filter { $0.hasPrefix("FuzzSASToken-") }
            .map { "Tests/Fixtures/fuzz-regressions/\($0)" }
        return (seeds + found).sorted()
    }

    @Test("the seed corpus is there")
    func corpusExists() {
        #expect(Self.files().count >= 10)
    }

    @Test("every seed and saved finding satisfies the oracle", arguments: files())
    func replay(_ path: String) throws {
        let bytes = Array(try Data(contentsOf: Self.root.appendingPathComponent(path)))
        let split = bytes.firstIndex(of: 0) ?? bytes.endIndex
        let text = String(decoding: bytes[..<split], as: UTF8.self)
        let resource = split < bytes.endIndex ? String(decoding: bytes[(split + 1)...], as: UTF8.self) : ""
        if let token = try? SASToken.parse(text) {
            #expect(token.isSigned(by: Self.key) == Self.recompute(text))
        }
        if !resource.isEmpty {
            let made = SASToken.make(resourceURI: resource, key: Self.key, expiry: 1_700_000_000)
            let token = try SASToken.parse(made)
            #expect(token.resource.utf8.elementsEqual(resource.utf8))
            #expect(token.isSigned(by: Self.key) && Self.recompute(made))
        }
    }

    @Test("the seeds that should verify do")
    func validSeeds() throws {
        for name in ["vector-device", "vector-service", "module-token", "rest-token-with-port", "amqp-token-sr-not-encoded", "fields-reordered", "sig-raw-plus"] {
            let bytes = try Data(contentsOf: Self.seeds.appendingPathComponent(name))
            let text = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            #expect(try SASToken.parse(text).isSigned(by: Self.key), "\(name)")
        }
    }

    /// base64(HMAC(key, raw sr + "\n" + raw se)) equals the percent-decoded sig, as text.
    static func recompute(_ text: String) -> Bool {
        guard text.hasPrefix("SharedAccessSignature ") else { return false }
        var fields: [String: String] = [:]
        for part in text.dropFirst("SharedAccessSignature ".count).components(separatedBy: "&") {
            guard let eq = part.firstIndex(of: "=") else { return false }
            fields[String(part[..<eq])] = String(part[part.index(after: eq)...])
        }
        guard let sr = fields["sr"], let se = fields["se"], let sig = fields["sig"],
            let decoded = sig.replacingOccurrences(of: "+", with: "%2B").removingPercentEncoding
        else { return false }
        let mac = HMAC<SHA256>.authenticationCode(for: Data((sr + "\n" + se).utf8), using: SymmetricKey(data: key.bytes))
        return Data(mac).base64EncodedString() == decoded
    }
}
