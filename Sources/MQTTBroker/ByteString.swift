#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A string that compares and hashes by its UTF-8 bytes.
///
/// MQTT compares topic names, filters and client identifiers byte for byte, with no Unicode
/// normalisation [MQTT-4.7.3-4]; Swift's `String ==` uses canonical equivalence, so `"é"` and
/// `"e\u{301}"` would be one dictionary key. Keys of the broker's tables are therefore wrapped in this type,
/// so two clients can never share a session or a topic node by being canonically equivalent.
struct ByteString: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    var value: Substring

    @inlinable init(_ value: Substring) { self.value = value }
    @inlinable init(_ value: String) { self.value = Substring(value) }
    init(stringLiteral value: String) { self.value = Substring(value) }

    var string: String { String(value) }
    var description: String { String(value) }

    static func == (lhs: ByteString, rhs: ByteString) -> Bool {
        var a = lhs.value
        var b = rhs.value
        return a.withUTF8 { pa in
            b.withUTF8 { pb in
                pa.count == pb.count && (pa.count == 0 || memcmp(pa.baseAddress!, pb.baseAddress!, pa.count) == 0)
            }
        }
    }

    func hash(into hasher: inout Hasher) {
        var v = value
        v.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

extension String {
    /// Byte-for-byte equality (no Unicode normalisation), as MQTT compares identifiers and topics.
    func bytesEqual(_ other: String) -> Bool {
        ByteString(self) == ByteString(other)
    }
}

extension StringProtocol {
    /// The `/`-separated levels of a topic name or filter, empty levels included, found by scanning the
    /// UTF-8 bytes (String.split walks grapheme clusters, which is much slower and not what MQTT means).
    func topicLevels() -> [SubSequence] {
        var levels: [SubSequence] = []
        let utf8 = self.utf8
        var start = utf8.startIndex
        var i = start
        while i != utf8.endIndex {
            if utf8[i] == UInt8(ascii: "/") {
                levels.append(self[start..<i])
                start = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        levels.append(self[start..<utf8.endIndex])
        return levels
    }
}
