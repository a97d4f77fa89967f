import HubCore

/// The outcome of applying a change to a twin.
public struct TwinUpdate: Sendable, Hashable {
    /// The twin after the change; the same twin when nothing changed.
    public var twin: Twin
    /// Whether anything changed. Then `twin.version` is one higher, `twin.etag` is new, and the twin
    /// must be stored; otherwise there is nothing to store or announce.
    public var changed: Bool
    /// What to tell the device about desired properties: the applied desired patch (its `null`s tell the
    /// device what to delete) or, after a replacement, the whole desired section. nil when desired
    /// properties did not change. Render with `TwinJSON.desiredNotification(_:version:)`.
    public var desiredChange: JSONObject?

    public init(twin: Twin, changed: Bool, desiredChange: JSONObject? = nil) {
        self.twin = twin
        self.changed = changed
        self.desiredChange = desiredChange
    }
}

extension Twin {
    /// A new, empty twin: version 1, both sections at `$version` 1, every `$lastUpdated` at `time`.
    /// This is the twin an identity has before anyone wrote to it.
    public static func empty(for identity: IdentityID, at time: Timestamp) -> Twin {
        Twin(
            deviceID: identity.device, moduleID: identity.module, etag: etag(forVersion: 1), version: 1,
            desired: TwinSection(version: 1, metadata: TwinMetadata(lastUpdated: time, lastUpdatedVersion: 1)),
            reported: TwinSection(version: 1, metadata: TwinMetadata(lastUpdated: time)))
    }

    /// The etag of the twin at `version`: base64 of the version as 8 big-endian bytes, so version 1 is
    /// `AAAAAAAAAAE=` exactly as Azure writes it. Versions only grow, so an etag never comes back while
    /// the twin exists.
    public static func etag(forVersion version: Int64) -> String {
        let bits = UInt64(bitPattern: version)
        return Base64.encode((0..<8).map { UInt8(truncatingIfNeeded: bits >> (56 - 8 * $0)) })
    }

    /// A service `PATCH /twins/{id}`: merges `tags` and `properties.desired` of `patch` (Azure's Twin
    /// JSON) into the twin. `properties.reported` in the patch is refused (`.invalid`).
    ///
    /// Throws `.invalid` or `.tooLarge` (the twin is then unchanged: nothing here mutates `self`).
    public func applyingServicePatch(_ patch: JSONValue, at time: Timestamp, limits: TwinLimits = .azure) throws(TwinError) -> TwinUpdate {
        let write = try ServiceTwinWrite.parse(patch, for: identity, isReplacement: false)
        if let tags = write.tags { try TwinValidation.validate(tags, in: .tags, limits: limits, allowsNull: true) }
        if let desired = write.desired { try TwinValidation.validate(desired, in: .desired, limits: limits, allowsNull: true) }

        var next = self
        var changed = false
        var desiredChange: JSONObject?
        if let patch = write.tags, !patch.members.isEmpty {
            var scratch = TwinMetadata(lastUpdated: time)  // tags carry no metadata
            SectionMerge.merge(patch, into: &next.tags, metadata: &scratch, stamp: .init(time: time, version: nil))
            try TwinValidation.checkSize(next.tags, of: .tags, limits: limits)
            changed = true
        }
        if let patch = write.desired, !patch.members.isEmpty {
            next.desired.version += 1
            let stamp = SectionMerge.Stamp(time: time, version: next.desired.version)
            SectionMerge.merge(patch, into: &next.desired.properties, metadata: &next.desired.metadata, stamp: stamp)
            try TwinValidation.checkSize(next.desired.properties, of: .desired, limits: limits)
            changed = true
            desiredChange = patch
        }
        return next.finishing(changed: changed, desiredChange: desiredChange, from: self)
    }

    /// A service `PUT /twins/{id}`: replaces tags and desired properties with those of `document`
    /// (a missing or `null` section means empty) and keeps reported properties (any in `document` are
    /// ignored). A section whose content does not change is left alone (no new `$version`, no
    /// notification).
    ///
    /// Throws `.invalid` or `.tooLarge`, the twin unchanged.
    public func replacingFromService(_ document: JSONValue, at time: Timestamp, limits: TwinLimits = .azure) throws(TwinError) -> TwinUpdate {
        let write = try ServiceTwinWrite.parse(document, for: identity, isReplacement: true)
        let tags = write.tags ?? JSONObject()
        let desired = write.desired ?? JSONObject()
        try TwinValidation.validate(tags, in: .tags, limits: limits, allowsNull: false)
        try TwinValidation.validate(desired, in: .desired, limits: limits, allowsNull: false)
        try TwinValidation.checkSize(tags, of: .tags, limits: limits)
        try TwinValidation.checkSize(desired, of: .desired, limits: limits)

        var next = self
        var changed = false
        var desiredChange: JSONObject?
        if !tags.hasSameContent(as: self.tags) {
            next.tags = tags
            changed = true
        }
        let stamp = SectionMerge.Stamp(time: time, version: self.desired.version + 1)
        let replaced = SectionMerge.replace(self.desired.properties, with: desired, metadata: self.desired.metadata, stamp: stamp)
        if replaced.changed {
            next.desired = TwinSection(properties: desired, version: self.desired.version + 1, metadata: replaced.metadata)
            changed = true
            desiredChange = desired
        }
        return next.finishing(changed: changed, desiredChange: desiredChange, from: self)
    }

    /// A device's reported-properties patch (MQTT `$iothub/twin/PATCH/properties/reported/`): merges
    /// `patch`, a JSON object, into reported properties. The new reported `$version` is
    /// `update.twin.reported.version`.
    ///
    /// Throws `.invalid` or `.tooLarge`, the twin unchanged.
    public func applyingReportedPatch(_ patch: JSONValue, at time: Timestamp, limits: TwinLimits = .azure) throws(TwinError) -> TwinUpdate {
        guard case .object(let object) = patch else { throw TwinError(.invalid, "a reported patch must be a JSON object") }
        try TwinValidation.validate(object, in: .reported, limits: limits, allowsNull: true)
        guard !object.members.isEmpty else { return TwinUpdate(twin: self, changed: false) }
        var next = self
        next.reported.version += 1
        SectionMerge.merge(object, into: &next.reported.properties, metadata: &next.reported.metadata, stamp: .init(time: time, version: nil))
        try TwinValidation.checkSize(next.reported.properties, of: .reported, limits: limits)
        return next.finishing(changed: true, desiredChange: nil, from: self)
    }

    /// Bumps the twin version and etag when something changed; otherwise returns the original.
    private func finishing(changed: Bool, desiredChange: JSONObject?, from original: Twin) -> TwinUpdate {
        guard changed else { return TwinUpdate(twin: original, changed: false) }
        var next = self
        next.version = original.version + 1
        next.etag = Twin.etag(forVersion: next.version)
        return TwinUpdate(twin: next, changed: true, desiredChange: desiredChange)
    }
}
