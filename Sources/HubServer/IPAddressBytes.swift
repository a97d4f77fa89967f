import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses IP address literals into their network-order bytes (4 for IPv4, 16 for IPv6), as certificate
/// subject alternative names need them.
enum IPAddressBytes {
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        let unbracketed = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        if inet_pton(AF_INET6, unbracketed, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}

extension IPAddressBytes {
    /// The bytes of a socket's IP address; nil for Unix sockets.
    static func bytes(of address: SocketAddress) -> [UInt8]? {
        address.ipAddress.flatMap(parse)
    }
}
