import HubCore

/// Where the next page of a query starts, carried by the opaque `x-ms-continuation` token.
///
/// A row query resumes strictly after the identity of the last item it returned (so a row is never
/// returned twice or skipped, whatever the page sizes), counting items already returned for `TOP`. An
/// aggregating query resumes at an offset into its result rows. The token also carries a hash of the
/// query text, so it cannot be replayed with another query.
struct QueryContinuation: Sendable, Hashable {
    /// FNV-1a of the query text, hex.
    var queryHash: String
    /// Row queries: the identity of the last item returned.
    var after: IdentityID?
    /// Row queries: items returned so far (for `TOP`). Aggregates: rows returned so far.
    var returned: Int

    static func hash(of query: TwinQuery) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in query.text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    /// The token: base64 of a small JSON object.
    var token: String {
        var object = JSONObject(["q": .string(queryHash), "n": .int(returned)])
        if let after {
            object["d"] = .string(after.device.rawValue)
            object["m"] = .optional(after.module?.rawValue)
        }
        return Base64.encode(JSONWriter.bytes(.object(object)))
    }

    /// Reads a token given back by a client for `query`. `.invalid` when it is not one of ours or was
    /// made for another query.
    init(token: String, for query: TwinQuery) throws(TwinError) {
        let invalid = TwinError(.invalid, "the continuation token is not valid")
        guard let bytes = Base64.decode(token), case .object(let object) = try? JSONParser.parse(bytes),
            case .string(let hash) = object["q"], case .number(let n) = object["n"], let returned = Int(n), returned >= 0
        else { throw invalid }
        guard hash == Self.hash(of: query) else { throw TwinError(.invalid, "the continuation token belongs to another query") }
        self.queryHash = hash
        self.returned = returned
        switch (object["d"], object["m"]) {
        case (nil, nil):
            after = nil
        case (.string(let d)?, let m?):
            guard let device = DeviceID(rawValue: d) else { throw invalid }
            switch m {
            case .null: after = IdentityID(device: device)
            case .string(let raw):
                guard let module = ModuleID(rawValue: raw) else { throw invalid }
                after = IdentityID(device: device, module: module)
            default: throw invalid
            }
        default:
            throw invalid
        }
    }

    init(query: TwinQuery, after: IdentityID?, returned: Int) {
        queryHash = Self.hash(of: query)
        self.after = after
        self.returned = returned
    }
}
