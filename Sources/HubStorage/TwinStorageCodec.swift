import HubCore

/// How a twin's content is written to a database column as JSON text, for every SQL backend.
///
/// The identity, etag and version live in their own columns; the document holds the rest:
/// `{"modelId":…,"tags":{…},"desired":S,"reported":S}` with S = `{"properties":{…},"version":n,
/// "metadata":M}` and M = `{"t":millis,"v":n?,"m":{key:M,…}?}`. Metadata members sit under `"m"` so a
/// property name can never collide with them; they are written in byte order of their keys so the same
/// twin always gives the same text. Property values keep their exact JSON text (numbers included).
public enum TwinStorageCodec {
    /// The document text of `twin`.
    public static func encode(_ twin: Twin) -> String {
        JSONWriter.string(
            .object(
                JSONObject([
                    "modelId": .string(twin.modelID),
                    "tags": .object(twin.tags),
                    "desired": section(twin.desired),
                    "reported": section(twin.reported),
                ])))
    }

    /// The twin stored as `document` with the given columns. `.corrupt` when the text is not a document
    /// `encode` writes.
    public static func decode(
        _ document: String, identity: IdentityID, etag: String, version: Int64, table: String
    ) throws(StorageError) -> Twin {
        let corrupt = StorageError(.corrupt, "\(table): a stored twin document cannot be read")
        guard case .object(let root) = try? JSONParser.parse(Array(document.utf8)),
            case .string(let modelID) = root["modelId"],
            case .object(let tags) = root["tags"],
            let desired = section(root["desired"]),
            let reported = section(root["reported"])
        else { throw corrupt }
        return Twin(
            deviceID: identity.device, moduleID: identity.module, etag: etag, version: version, tags: tags,
            desired: desired, reported: reported, modelID: modelID)
    }

    private static func section(_ section: TwinSection) -> JSONValue {
        .object(
            JSONObject([
                "properties": .object(section.properties),
                "version": .number(String(section.version)),
                "metadata": metadata(section.metadata),
            ]))
    }

    private static func metadata(_ metadata: TwinMetadata) -> JSONValue {
        var object = JSONObject(["t": .number(String(metadata.lastUpdated.rawValue))])
        if let version = metadata.lastUpdatedVersion { object["v"] = .number(String(version)) }
        if !metadata.members.isEmpty {
            var members = JSONObject()
            for key in metadata.members.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
                members[key] = self.metadata(metadata.members[key]!)
            }
            object["m"] = .object(members)
        }
        return .object(object)
    }

    private static func section(_ value: JSONValue?) -> TwinSection? {
        guard case .object(let object) = value,
            case .object(let properties) = object["properties"],
            let version = int64(object["version"]),
            let metadata = metadata(object["metadata"])
        else { return nil }
        return TwinSection(properties: properties, version: version, metadata: metadata)
    }

    private static func metadata(_ value: JSONValue?) -> TwinMetadata? {
        guard case .object(let object) = value, let time = int64(object["t"]) else { return nil }
        var metadata = TwinMetadata(lastUpdated: Timestamp(rawValue: time))
        if let version = object["v"] {
            guard let parsed = int64(version) else { return nil }
            metadata.lastUpdatedVersion = parsed
        }
        if let members = object["m"] {
            guard case .object(let entries) = members else { return nil }
            for (key, entry) in entries.members {
                guard let child = self.metadata(entry) else { return nil }
                metadata.members[key] = child
            }
        }
        return metadata
    }

    private static func int64(_ value: JSONValue?) -> Int64? {
        guard case .number(let text) = value else { return nil }
        return Int64(text)
    }
}
