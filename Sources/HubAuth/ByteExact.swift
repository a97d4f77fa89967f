extension StringProtocol {
    /// Byte-for-byte equality of the UTF-8 encodings.
    ///
    /// Swift's `==` on `String` compares by Unicode canonical equivalence, under which, for example,
    /// U+212A KELVIN SIGN equals `K` and U+037E GREEK QUESTION MARK equals `;`. Identifiers from a token
    /// or a topic are attacker-controlled, so they are compared as bytes. Not constant-time: use it for
    /// identifiers and names, never for secrets.
    func utf8Equals<Other: StringProtocol>(_ other: Other) -> Bool {
        utf8.elementsEqual(other.utf8)
    }
}

/// ASCII-only case folding, for host names (never locale- or Unicode-dependent).
enum ASCII {
    static func lowercased<S: StringProtocol>(_ text: S) -> [UInt8] {
        text.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }
    }
}
