import HubCore

/// A `JSONValue` that can travel inside `Codable` types (a job definition's reference data): decodes any
/// JSON, encodes it back. Numbers keep their text where the decoder allows (integers exactly).
public struct CodableJSON: Sendable, Hashable, Codable {
    public var value: JSONValue

    public init(_ value: JSONValue) { self.value = value }

    public init(from decoder: any Decoder) throws {
        value = try Self.decode(decoder, depth: 0)
    }

    /// Nesting followed at most (deeper documents are refused, as the JSON parser refuses them).
    static let maximumDepth = 64

    private static func decode(_ decoder: any Decoder, depth: Int) throws -> JSONValue {
        guard depth <= maximumDepth else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "JSON nested deeper than \(maximumDepth) levels"))
        }
        if var array = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !array.isAtEnd { items.append(try array.decode(Nested.self).value) }
            return .array(items)
        }
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            var result = JSONObject()
            // Decoders list keys in no fixed order (Foundation's on Linux: hash order); sorted, the same
            // document always decodes to the same, equal value.
            for key in object.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                result[key.stringValue] = try object.decode(Nested.self, forKey: key).value
            }
            return .object(result)
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { return .null }
        if let flag = try? single.decode(Bool.self) { return .bool(flag) }
        if let integer = try? single.decode(Int64.self) { return .number(String(integer)) }
        if let number = try? single.decode(Double.self) { return .number(String(number)) }
        return .string(try single.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        switch value {
        case .null:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        case .bool(let flag):
            var single = encoder.singleValueContainer()
            try single.encode(flag)
        case .number(let text):
            var single = encoder.singleValueContainer()
            if let integer = Int64(text) { try single.encode(integer) } else { try single.encode(Double(text) ?? 0) }
        case .string(let text):
            var single = encoder.singleValueContainer()
            try single.encode(text)
        case .array(let items):
            var array = encoder.unkeyedContainer()
            for item in items { try array.encode(CodableJSON(item)) }
        case .object(let object):
            var container = encoder.container(keyedBy: AnyKey.self)
            for (key, member) in object.members { try container.encode(CodableJSON(member), forKey: AnyKey(key)) }
        }
    }

    /// One nesting level deeper (the depth travels through the decoder's coding path).
    private struct Nested: Decodable {
        var value: JSONValue
        init(from decoder: any Decoder) throws { value = try CodableJSON.decode(decoder, depth: decoder.codingPath.count) }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
