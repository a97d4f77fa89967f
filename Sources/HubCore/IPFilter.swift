/// An IPv4 or IPv6 network in CIDR form (`10.0.0.0/8`, `2001:db8::/32`, or a single address).
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    /// Network address bytes (4 or 16), host bits zeroed.
    public let network: [UInt8]
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddressParser.parse(String(parts[0])) else { return nil }
        let maxPrefix = address.count * 8
        var prefix = maxPrefix
        if parts.count == 2 {
            guard let p = Int(parts[1]), (0...maxPrefix).contains(p), !parts[1].hasPrefix("+") else { return nil }
            prefix = p
        }
        self.prefixLength = prefix
        self.network = CIDR.mask(address, prefix)
    }

    private static func mask(_ bytes: [UInt8], _ prefix: Int) -> [UInt8] {
        bytes.enumerated().map { i, b in
            let bits = max(0, min(8, prefix - i * 8))
            return bits == 8 ? b : b & ~(UInt8.max >> bits)
        }
    }

    /// True when `address` (4 or 16 bytes) lies in this network. An IPv4-mapped IPv6 address
    /// (`::ffff:a.b.c.d`) is matched as the IPv4 address.
    public func contains(_ address: [UInt8]) -> Bool {
        var address = address
        if address.count == 16, network.count == 4, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF {
            address = Array(address[12...])
        }
        guard address.count == network.count else { return false }
        return CIDR.mask(address, prefixLength) == network
    }

    public var description: String {
        let addr: String
        if network.count == 4 {
            addr = network.map(String.init).joined(separator: ".")
        } else {
            addr = stride(from: 0, to: 16, by: 2).map { String(UInt16(network[$0]) << 8 | UInt16(network[$0 + 1]), radix: 16) }.joined(separator: ":")
        }
        return "\(addr)/\(prefixLength)"
    }
}

/// Ordered allow/deny rules on client addresses, applied to every listener (Azure IoT Hub's IP filter).
/// The first rule whose network contains the address decides; with no match, `defaultAllow` decides.
public struct IPFilter: Hashable, Sendable {
    public struct Rule: Hashable, Sendable {
        public var network: CIDR
        public var allow: Bool
        public init(network: CIDR, allow: Bool) {
            self.network = network
            self.allow = allow
        }
    }

    public var rules: [Rule]
    public var defaultAllow: Bool

    public init(rules: [Rule] = [], defaultAllow: Bool = true) {
        self.rules = rules
        self.defaultAllow = defaultAllow
    }

    /// No rules: everyone is admitted.
    public var isEmpty: Bool { rules.isEmpty && defaultAllow }

    /// Whether a client at `address` (4 or 16 bytes) may connect.
    public func allows(_ address: [UInt8]) -> Bool {
        for rule in rules where rule.network.contains(address) { return rule.allow }
        return defaultAllow
    }

    /// Parses rules written `allow 10.0.0.0/8` / `deny 0.0.0.0/0`; nil for a malformed one.
    public static func parseRule(_ text: String) -> Rule? {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 2, let cidr = CIDR(String(words[1])) else { return nil }
        switch words[0].lowercased() {
        case "allow", "accept": return Rule(network: cidr, allow: true)
        case "deny", "reject": return Rule(network: cidr, allow: false)
        default: return nil
        }
    }
}

/// Textual IPv4/IPv6 addresses to bytes.
public enum IPAddressParser {
    public static func parse(_ text: String) -> [UInt8]? {
        if text.contains(":") { return parseIPv6(text) }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }), let v = UInt8(p) else { return nil }
            bytes.append(v)
        }
        return bytes
    }

    private static func parseIPv6(_ text: String) -> [UInt8]? {
        var text = Substring(text)
        var tail4: [UInt8] = []
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard let v4 = parse(String(text[text.index(after: lastColon)...])) else { return nil }
            tail4 = v4
            // Keep the groups before the embedded IPv4 part; a single trailing ':' is a separator.
            text = text[...lastColon]
            if !text.hasSuffix("::") { text = text.dropLast() }
        }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ s: Substring) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            for g in s.split(separator: ":", omittingEmptySubsequences: false) {
                guard !g.isEmpty, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        let wanted = tail4.isEmpty ? 8 : 6
        var all: [UInt16]
        if halves.count == 2 {
            guard let a = groups(halves[0]), let b = groups(halves[1]), a.count + b.count < wanted else { return nil }
            all = a + Array(repeating: 0, count: wanted - a.count - b.count) + b
        } else {
            guard let a = groups(halves[0]), a.count == wanted else { return nil }
            all = a
        }
        var bytes = all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        bytes.append(contentsOf: tail4)
        return bytes.count == 16 ? bytes : nil
    }
}

extension Substring {
    fileprivate func components(separatedBy separator: String) -> [Substring] {
        var result: [Substring] = []
        var rest = self[...]
        while let r = rest.firstRange(of: separator) {
            result.append(rest[..<r.lowerBound])
            rest = rest[r.upperBound...]
        }
        result.append(rest)
        return result
    }
}
