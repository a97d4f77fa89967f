import Foundation

extension HubConfiguration {
    /// A flag given on the command line, already typed by the argument parser.
    public struct Flag: Sendable, Hashable {
        public var key: Key
        public var value: ConfigValue

        public init(_ key: Key, _ value: ConfigValue) {
            self.key = key
            self.value = value
        }
    }

    /// The configuration `meridian serve` runs with: defaults, then the config file named by the
    /// `config` flag (if any), then the other flags; then the combination is checked.
    public static func resolve(flags: [Flag]) throws(HubServerError) -> HubConfiguration {
        var configuration = HubConfiguration()
        if let fileFlag = flags.last(where: { $0.key == .config }) {
            try configuration.applyFlag(fileFlag)
            if let path = configuration.configFile {
                try configuration.apply(fileEntries: try ConfigFile.read(path), from: path)
            }
        }
        for flag in flags where flag.key != .config {
            try configuration.applyFlag(flag)
        }
        try configuration.validate()
        return configuration
    }

    /// Applies one flag; errors read `option --<key> must be …`.
    public mutating func applyFlag(_ flag: Flag) throws(HubServerError) {
        do {
            try set(flag.key, to: flag.value, relativeTo: nil)
        } catch {
            throw HubServerError(.invalidConfiguration, "option --\(flag.key.rawValue) \(error.text)")
        }
    }

    /// Applies the entries of the config file at `path`; errors read `config file <path>: …`.
    mutating func apply(fileEntries entries: [ConfigEntry], from path: String) throws(HubServerError) {
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        func fail(_ text: String) -> HubServerError {
            HubServerError(.invalidConfiguration, "config file \(path): \(text)")
        }
        for entry in entries {
            if entry.key == "limits" {
                guard case .table(let limitEntries) = entry.value else {
                    throw fail("key \"limits\" must be a table of limits, got \(entry.value.typeDescription)")
                }
                for limit in limitEntries {
                    guard let key = Key(rawValue: limit.key), key.isLimit else {
                        throw fail("unknown key \"limits.\(limit.key)\"\(Self.hint(for: limit.key, inLimits: true))")
                    }
                    do {
                        try set(key, to: limit.value, relativeTo: base)
                    } catch {
                        throw fail("key \"limits.\(limit.key)\" \(error.text)")
                    }
                }
                continue
            }
            guard let key = Key(rawValue: entry.key), key.isFileKey, !key.isLimit else {
                throw fail("unknown key \"\(entry.key)\"\(Self.hint(for: entry.key, inLimits: false))")
            }
            do {
                try set(key, to: entry.value, relativeTo: base)
            } catch {
                throw fail("key \"\(entry.key)\" \(error.text)")
            }
        }
    }

    /// A suggestion for an unknown key: the kebab-case spelling, or the right table.
    private static func hint(for key: String, inLimits: Bool) -> String {
        let kebab = key.lowercased().replacingOccurrences(of: "_", with: "-")
        if let known = Key(rawValue: kebab), known != .config {
            switch (known.isLimit, inLimits) {
            case (true, false): return " (limits go in the limits table: limits.\(known.rawValue))"
            case (false, true): return " (\(known.rawValue) is not a limit; put it at the top level)"
            default: return kebab == key ? "" : " (did you mean \"\(known.rawValue)\"?)"
            }
        }
        if kebab == Key.config.rawValue { return " (config is a command-line option only)" }
        return ""
    }

    /// Checks the settings together: certificate and key come in pairs; at least one listener is
    /// enabled; no two listeners share a port on overlapping addresses; the host name can go in a
    /// certificate.
    public func validate() throws(HubServerError) {
        func fail(_ text: String) -> HubServerError { HubServerError(.invalidConfiguration, text) }
        switch (tlsCertificatePath, tlsKeyPath) {
        case (.some, nil): throw fail("tls-cert is set but tls-key is not (give both or neither)")
        case (nil, .some): throw fail("tls-key is set but tls-cert is not (give both or neither)")
        default: break
        }
        let listeners = listenerPlan
        if listeners.isEmpty {
            throw fail("every listener is disabled (mqtt-port, mqtts-port, http-port and https-port are all 0)")
        }
        for (i, a) in listeners.enumerated() {
            for b in listeners[(i + 1)...] where a.port == b.port && Self.overlap(a.host, b.host) {
                throw fail("\(a.portKey.rawValue) and \(b.portKey.rawValue) are both \(a.port) on \(a.host) and \(b.host)")
            }
        }
        guard Self.isValidHostName(hostName) else {
            throw fail("host-name must be a DNS name (letters, digits, '-', '.') or an IP address")
        }
    }

    /// Whether two listen addresses can clash on one port: the same address, or a wildcard.
    private static func overlap(_ a: String, _ b: String) -> Bool {
        let wildcards: Set<String> = ["0.0.0.0", "::", "[::]", "*"]
        return a == b || wildcards.contains(a) || wildcards.contains(b)
    }

    static func isValidHostName(_ name: String) -> Bool {
        if IPAddressBytes.parse(name) != nil { return true }
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
        }
    }
}
