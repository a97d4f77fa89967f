import HubCore

/// Which part of a twin a document is, for limits and error messages.
public enum TwinSectionName: String, Sendable, Hashable, CaseIterable {
    case tags
    case desired = "properties.desired"
    case reported = "properties.reported"
}

/// Azure's rules for what tags, desired and reported properties may hold (protocol reference §4.4):
/// keys, depth, value types and ranges, and section sizes.
///
/// Errors name the rule and the section, never the key or value (either may be anything a client sent).
enum TwinValidation {
    /// Checks every key and value of `object`, the root of a section or of a patch to one.
    ///
    /// - Parameter allowsNull: patches may set a member to `null` (delete it); documents may not.
    ///   Arrays never hold `null` (Azure refuses it).
    static func validate(
        _ object: JSONObject, in section: TwinSectionName, limits: TwinLimits, allowsNull: Bool
    ) throws(TwinError) {
        try validateObject(object, depth: 0, section, limits, allowsNull: allowsNull)
    }

    private static func validateObject(
        _ object: JSONObject, depth: Int, _ section: TwinSectionName, _ limits: TwinLimits, allowsNull: Bool
    ) throws(TwinError) {
        for member in object.members {
            try validateKey(member.key, section, limits)
            if case .null = member.value {
                guard allowsNull else { throw TwinError(.invalid, "\(section.rawValue) holds a null value outside a patch") }
                continue
            }
            try validateValue(member.value, depth: depth, section, limits, allowsNull: allowsNull)
        }
    }

    /// `value` sits inside a container at `depth`; a container value is one level deeper.
    private static func validateValue(
        _ value: JSONValue, depth: Int, _ section: TwinSectionName, _ limits: TwinLimits, allowsNull: Bool
    ) throws(TwinError) {
        switch value {
        case .null:
            throw TwinError(.invalid, "an array in \(section.rawValue) holds null")
        case .bool:
            return
        case .number(let text):
            try validateNumber(text, section, limits)
        case .string(let string):
            guard string.utf8.count <= limits.maximumStringBytes else {
                throw TwinError(.invalid, "a string in \(section.rawValue) is longer than \(limits.maximumStringBytes) bytes")
            }
        case .array(let items):
            try checkDepth(depth + 1, section, limits)
            for item in items { try validateValue(item, depth: depth + 1, section, limits, allowsNull: allowsNull) }
        case .object(let object):
            try checkDepth(depth + 1, section, limits)
            try validateObject(object, depth: depth + 1, section, limits, allowsNull: allowsNull)
        }
    }

    private static func checkDepth(_ depth: Int, _ section: TwinSectionName, _ limits: TwinLimits) throws(TwinError) {
        guard depth <= limits.maximumDepth else {
            throw TwinError(.invalid, "\(section.rawValue) is nested deeper than \(limits.maximumDepth) levels")
        }
    }

    /// Keys: 1…1024 UTF-8 bytes, no C0 or C1 control characters (nor DEL), no `.`, `$` or space.
    /// Azure does not mention the empty key; Meridian refuses it because no query path can name it.
    static func validateKey(_ key: String, _ section: TwinSectionName, _ limits: TwinLimits) throws(TwinError) {
        let length = key.utf8.count
        guard length > 0 else { throw TwinError(.invalid, "a key in \(section.rawValue) is empty") }
        guard length <= limits.maximumKeyBytes else {
            throw TwinError(.invalid, "a key in \(section.rawValue) is longer than \(limits.maximumKeyBytes) bytes")
        }
        for scalar in key.unicodeScalars {
            switch scalar.value {
            case 0x00...0x1F, 0x7F...0x9F:
                throw TwinError(.invalid, "a key in \(section.rawValue) contains a control character")
            case 0x2E, 0x24, 0x20:
                throw TwinError(.invalid, "a key in \(section.rawValue) contains '.', '$' or a space")
            default:
                continue
            }
        }
    }

    /// Integers (no fraction, no exponent) within ±2^52; other numbers finite.
    private static func validateNumber(_ text: String, _ section: TwinSectionName, _ limits: TwinLimits) throws(TwinError) {
        let isInteger = !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        if isInteger {
            guard let value = Int64(text), limits.integerRange.contains(value) else {
                throw TwinError(.invalid, "an integer in \(section.rawValue) is outside -4503599627370496…4503599627370495")
            }
        } else {
            guard let value = Double(text), value.isFinite else {
                throw TwinError(.invalid, "a number in \(section.rawValue) is out of range")
            }
        }
    }

    /// Refuses `object` as the whole content of `section` when it is over the section's size limit.
    static func checkSize(_ object: JSONObject, of section: TwinSectionName, limits: TwinLimits) throws(TwinError) {
        let limit =
            switch section {
            case .tags: limits.maximumTagsSize
            case .desired: limits.maximumDesiredSize
            case .reported: limits.maximumReportedSize
            }
        guard TwinSize.of(object) <= limit else {
            throw TwinError(.tooLarge, "\(section.rawValue) would be larger than \(limit) bytes")
        }
    }
}
