import Foundation
import Testing

/// S9 lint: HubAuth must not compare secrets with `==`.
///
/// What it checks, line by line, in every `Sources/HubAuth/*.swift` file (with `//` comments removed):
/// a line with `==` or `!=` is a violation when
/// 1. it builds or names a byte array or `Data` (`Data(`, `[UInt8]`, `Array(`), or
/// 2. it mentions a secret-looking name (`sig`, `signature`, `mac`, `key`, `secret`, `password`,
///    `hash`, `digest`, `token`, in any case, inside any identifier) and is not a comparison with `nil`.
/// A line calling `elementsEqual(`, `utf8Equals(` or `starts(with:` is a violation under rule 2 as
/// well, since those are not constant-time either.
/// A line may opt out with a trailing `// constant-time: <why>` comment, for comparisons that are
/// constant-time by construction (e.g. `SymmetricKey ==`, which is swift-crypto's `safeCompare`).
/// It is a text scan, not a type checker: it errs on the side of flagging, and the opt-out says why.
@Suite("Constant-time lint (S9)")
struct ConstantTimeLintTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/HubAuth")

    static let secretName = try! NSRegularExpression(pattern: "[A-Za-z0-9_]*(sig|signature|mac|key|secret|password|hash|digest|token)[A-Za-z0-9_]*", options: [.caseInsensitive])
    static let equality = try! NSRegularExpression(pattern: "(?<![=!<>])(==|!=)(?!=)")
    static let nilComparison = try! NSRegularExpression(pattern: "(==|!=)\\s*nil\\b|\\bnil\\s*(==|!=)")
    static let byteValues = ["Data(", "[UInt8]", "Array("]
    static let sequenceComparisons = ["elementsEqual(", "utf8Equals(", "starts(with:"]

    /// The violations in one file's text, as "line: text".
    static func violations(in text: String) -> [String] {
        var found: [String] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let raw = String(rawLine)
            if raw.contains("// constant-time:") { continue }
            let line = raw.range(of: "//").map { String(raw[..<$0.lowerBound]) } ?? raw
            let range = NSRange(line.startIndex..., in: line)
            let hasEquality = equality.firstMatch(in: line, range: range) != nil
            let hasSequenceComparison = sequenceComparisons.contains { line.contains($0) }
            guard hasEquality || hasSequenceComparison else { continue }
            let onlyNil = hasEquality && !hasSequenceComparison && nilComparison.numberOfMatches(in: line, range: range) == equality.numberOfMatches(in: line, range: range)
            let namesSecret = secretName.firstMatch(in: line, range: range) != nil
            if (hasEquality && byteValues.contains { line.contains($0) }) || (namesSecret && !onlyNil) {
                found.append("\(number + 1): \(raw.trimmingCharacters(in: .whitespaces))")
            }
        }
        return found
    }

    static func sourceFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: sources, includingPropertiesForKeys: nil).filter { $0.pathExtension == "swift" }
    }

    @Test("HubAuth has no == between byte arrays, Data or secret strings")
    func noSecretEquality() throws {
        let files = try Self.sourceFiles()
        #expect(files.count >= 10)
        for file in files {
            let found = Self.violations(in: try String(contentsOf: file, encoding: .utf8))
            #expect(found.isEmpty, "\(file.lastPathComponent):\n\(found.joined(separator: "\n"))")
        }
    }

    @Test("the lint catches what it should", arguments: [
        "if signature == expected {",
        "guard computedMAC != token.sig else {",
        "return Data(a) == Data(b)",
        "let same = [UInt8](x) == y",
        "if Array(lhs.utf8) == Array(rhs.utf8) { }",
        "guard key.bytes == other.bytes else { return }",
        "return stored.hash == derived",
        "let ok = password == candidate",
        "return mac.elementsEqual(expected)",
        "if sig.utf8Equals(other) {}",
        "x = a == b && keyName == name",
    ])
    func catches(_ line: String) {
        #expect(Self.violations(in: line).count == 1)
    }

    @Test("the lint lets these through", arguments: [
        "guard keyName != nil else {",
        "if values[key] == nil {",
        "if index == 0 { }",
        "return SymmetricKey(data: a) == SymmetricKey(data: b)  // constant-time: SymmetricKey == is safeCompare",
        "let x = 1 // signature == other in a comment",
        "if device.utf8Equals(identity.device.rawValue) {",
        "let y = a === b",
    ])
    func allows(_ line: String) {
        #expect(Self.violations(in: line).isEmpty)
    }
}
