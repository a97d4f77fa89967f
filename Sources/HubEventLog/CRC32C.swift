/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every log record.
///
/// Slicing-by-8: eight 256-entry tables let the loop consume eight bytes per step, which matters
/// because every appended and every read byte passes through here. Pure Swift so the module needs no
/// C target; SSE4.2's `crc32` instruction would be faster still but is not reachable without one.
/// Check value: `CRC32C.checksum("123456789".utf8) == 0xE306_9283`.
public enum CRC32C {
    /// `table[k * 256 + b]`: the CRC of byte `b` followed by `k` zero bytes. One flat, never-freed
    /// buffer, so the inner loop indexes raw memory without bounds checks or reference counting.
    nonisolated(unsafe) private static let table: UnsafePointer<UInt32> = {
        let table = UnsafeMutablePointer<UInt32>.allocate(capacity: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            table[byte] = crc
        }
        for byte in 0..<256 {
            var crc = table[byte]
            for k in 1..<8 {
                crc = table[Int(crc & 0xFF)] ^ (crc >> 8)
                table[k * 256 + byte] = crc
            }
        }
        return UnsafePointer(table)
    }()

    /// The CRC-32C of `bytes`, continuing from `crc` (0 to start).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var crc = ~crc
        guard let base = bytes.baseAddress else { return ~crc }
        let count = bytes.count
        let t = table
        var i = 0
        while count - i >= 8 {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let lo = crc ^ UInt32(truncatingIfNeeded: word)
            let hi = UInt32(truncatingIfNeeded: word >> 32)
            crc = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)] ^ t[5 * 256 + Int((lo >> 16) & 0xFF)]
                ^ t[4 * 256 + Int(lo >> 24)] ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                ^ t[256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
            i += 8
        }
        while i < count {
            crc = t[Int((crc ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)] ^ (crc >> 8)
            i += 1
        }
        return ~crc
    }

    /// The CRC-32C of a byte sequence.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes, continuing crc: UInt32 = 0) -> UInt32 where Bytes.Element == UInt8 {
        let array = Array(bytes)
        return array.withUnsafeBytes { checksum($0, continuing: crc) }
    }
}
