/// A string compared by its UTF-8 bytes, for dictionary keys and sort orders that must be byte-exact.
///
/// Swift's `String ==` is Unicode canonical equivalence (`"é" == "e\u{301}"`), so a `[String: …]`
/// would merge two usernames or CA names that a SQL backend (binary collation) keeps apart. Every
/// in-memory store and cache keys by `ExactKey` instead, so all backends agree.
package struct ExactKey: Hashable, Comparable, Sendable {
    /// The string's UTF-8 bytes, exactly as given.
    package let bytes: [UInt8]

    package init(_ string: String) { bytes = Array(string.utf8) }

    /// Byte order: the order of SQLite's `BINARY` collation and of `DeviceID`'s `<`.
    package static func < (lhs: ExactKey, rhs: ExactKey) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}

extension String {
    /// True when both strings have the same UTF-8 bytes (not merely canonically equivalent).
    package func isByteEqual(to other: String) -> Bool { self.utf8.elementsEqual(other.utf8) }
}
