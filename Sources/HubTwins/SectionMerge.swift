import HubCore

/// How a section's properties and `$metadata` change under a JSON merge patch (RFC 7386) or a
/// wholesale replacement. Pure functions on values; validation happens before, size checks after.
enum SectionMerge {
    /// What a change stamps on the metadata it touches.
    struct Stamp {
        /// `$lastUpdated`.
        var time: Timestamp
        /// `$lastUpdatedVersion` (the new desired `$version`); nil for reported properties and tags.
        var version: Int64?

        var leaf: TwinMetadata { TwinMetadata(lastUpdated: time, lastUpdatedVersion: version) }
    }

    /// Merges `patch` into `target` (objects merge recursively, `null` deletes a member, anything else
    /// replaces it) and stamps the metadata of every member the patch names and of every object on the
    /// way to it, `metadata` (the level of `target`) included.
    ///
    /// A member the patch names counts as changed even when its value stays the same, as in Azure: the
    /// stamp then says when a device last *reported* a value, which back ends use as a heartbeat.
    static func merge(_ patch: JSONObject, into target: inout JSONObject, metadata: inout TwinMetadata, stamp: Stamp) {
        for (key, value) in patch.members {
            switch value {
            case .null:
                target[key] = nil
                metadata.members[key] = nil
            case .object(let subpatch):
                if case .object(var existing) = target[key] {
                    var sub = metadata.members[key] ?? fresh(for: .object(existing), stamp: stamp)
                    merge(subpatch, into: &existing, metadata: &sub, stamp: stamp)
                    target[key] = .object(existing)
                    metadata.members[key] = sub
                } else {
                    // Merging into a non-object is merging into {}: the patch's nulls just vanish.
                    let created = JSONValue.object(removingNulls(subpatch))
                    target[key] = created
                    metadata.members[key] = fresh(for: created, stamp: stamp)
                }
            default:
                target[key] = value
                metadata.members[key] = stamp.leaf
            }
        }
        metadata.lastUpdated = stamp.time
        metadata.lastUpdatedVersion = stamp.version
    }

    /// Replaces `old` by `new`, keeping the metadata of every leaf whose value is unchanged and stamping
    /// the rest; a level is stamped when anything in it changed. Returns the new metadata and whether
    /// anything changed (member order alone is not a change).
    static func replace(
        _ old: JSONObject, with new: JSONObject, metadata: TwinMetadata, stamp: Stamp
    ) -> (metadata: TwinMetadata, changed: Bool) {
        var changed = old.members.contains { new[$0.key] == nil }
        var members: [String: TwinMetadata] = [:]
        for (key, value) in new.members {
            guard let previous = old[key] else {
                members[key] = fresh(for: value, stamp: stamp)
                changed = true
                continue
            }
            if case .object(let previousObject) = previous, case .object(let newObject) = value {
                let sub = replace(
                    previousObject, with: newObject,
                    metadata: metadata.members[key] ?? fresh(for: previous, stamp: stamp), stamp: stamp)
                members[key] = sub.metadata
                changed = changed || sub.changed
            } else if previous.hasSameContent(as: value), let kept = metadata.members[key] {
                members[key] = kept
            } else {
                members[key] = fresh(for: value, stamp: stamp)
                changed = true
            }
        }
        guard changed else {
            return (TwinMetadata(lastUpdated: metadata.lastUpdated, lastUpdatedVersion: metadata.lastUpdatedVersion, members: members), false)
        }
        return (TwinMetadata(lastUpdated: stamp.time, lastUpdatedVersion: stamp.version, members: members), true)
    }

    /// Metadata for a value set just now: stamped at every level of an object, a plain stamp for a leaf.
    static func fresh(for value: JSONValue, stamp: Stamp) -> TwinMetadata {
        var metadata = stamp.leaf
        if case .object(let object) = value {
            for (key, member) in object.members { metadata.members[key] = fresh(for: member, stamp: stamp) }
        }
        return metadata
    }

    /// `object` without `null` members, recursively (what merging it into `{}` gives).
    static func removingNulls(_ object: JSONObject) -> JSONObject {
        var result = JSONObject()
        for (key, value) in object.members {
            switch value {
            case .null: continue
            case .object(let sub): result[key] = .object(removingNulls(sub))
            default: result[key] = value
            }
        }
        return result
    }
}

extension JSONValue {
    /// Equal as JSON data: objects regardless of member order, numbers by value, strings byte for byte
    /// (a different Unicode spelling is a change worth recording).
    func hasSameContent(as other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)):
            if a == b { return true }
            guard let x = Double(a), let y = Double(b) else { return false }
            return x == y
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.hasSameContent(as: $1) }
        case (.object(let a), .object(let b)): return a.hasSameContent(as: b)
        default: return false
        }
    }
}

extension JSONObject {
    /// Equal as JSON data, regardless of member order (see `JSONValue.hasSameContent(as:)`).
    func hasSameContent(as other: JSONObject) -> Bool {
        members.count == other.members.count
            && members.allSatisfy { member in other[member.key].map { member.value.hasSameContent(as: $0) } ?? false }
    }
}
