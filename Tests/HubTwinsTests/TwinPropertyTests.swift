import HubTestKit
import HubCore
import HubStorage
import HubTwins
import PropertyBased
import Testing

/// Properties checked over random twins, patches and queries.
@Suite("Twin properties")
struct TwinPropertyTests {
    /// A random twin-shaped object: keys from a small alphabet (so patches hit existing members),
    /// nested up to `depth` more levels.
    static func randomObject(_ dice: inout Dice, depth: Int, nulls: Bool) -> JSONObject {
        var object = JSONObject()
        for _ in 0..<dice.int(0...4) {
            object[dice.pick(["a", "b", "c", "d", "é", "Ab"])] = randomValue(&dice, depth: depth, nulls: nulls)
        }
        return object
    }

    static func randomValue(_ dice: inout Dice, depth: Int, nulls: Bool) -> JSONValue {
        switch dice.int(0...9) {
        case 0: nulls ? .null : .int(0)
        case 1: .bool(dice.bool())
        case 2: .int(dice.int(-1000...1000))
        case 3: .number(dice.pick(["0.5", "-2.25", "1e3"]))
        case 4: .string(dice.pick(["", "x", "north", "it's"]))
        case 5: .array([.int(dice.int(0...3)), .string("s")])
        default: depth > 0 ? .object(Self.randomObject(&dice, depth: depth - 1, nulls: nulls)) : .int(1)
        }
    }

    /// RFC 7386 on Swift dictionaries: the reference the twin merge must agree with.
    static func referenceMerge(_ target: JSONValue?, _ patch: JSONValue) -> JSONValue? {
        guard case .object(let p) = patch else { return patch }
        var members: [String: JSONValue] = [:]
        if case .object(let t)? = target { for m in t.members { members[m.key] = m.value } }
        for (key, value) in p.members {
            if case .null = value { members[key] = nil } else { members[key] = referenceMerge(members[key], value) }
        }
        var object = JSONObject()
        for key in members.keys.sorted() { object[key] = members[key] }
        return .object(object)
    }

    /// JSON text with every object's members sorted: equal for equal content.
    static func canonical(_ value: JSONValue) -> String {
        switch value {
        case .object(let o):
            var sorted = JSONObject()
            for key in o.keys.sorted() { sorted[key] = .string(canonical(o[key]!)) }
            return T.text(.object(sorted))
        case .array(let items): return "[" + items.map(canonical).joined(separator: ",") + "]"
        default: return T.text(value)
        }
    }

    /// Every object level of `properties` has metadata for exactly its members, and leaves have none.
    static func metadataMirrors(_ properties: JSONObject, _ metadata: TwinMetadata) -> Bool {
        guard Set(metadata.members.keys) == Set(properties.keys) else { return false }
        return properties.members.allSatisfy { member in
            guard let child = metadata.members[member.key] else { return false }
            if case .object(let object) = member.value { return metadataMirrors(object, child) }
            return child.members.isEmpty
        }
    }

    @Test("desired patches agree with RFC 7386, keep $metadata a mirror, and bump versions by one")
    func mergeAgreesWithReference() async {
        let input = Dice.generator { dice -> (JSONObject, [JSONObject]) in
            (Self.randomObject(&dice, depth: 3, nulls: false), (0..<dice.int(1...5)).map { _ in Self.randomObject(&dice, depth: 3, nulls: true) })
        }
        await propertyCheck(count: 500, input: input) { sample in
            let (initial, patches) = sample
            var twin = Twin.empty(for: T.device1, at: T.t0)
            var expected: JSONValue = .object(JSONObject())
            for (i, patch) in [initial].followed(by: patches).enumerated() {
                let body = JSONValue.object(JSONObject(["properties": .object(JSONObject(["desired": .object(patch)]))]))
                let update = try twin.applyingServicePatch(body, at: Timestamp(rawValue: Int64(i)))
                #expect(update.changed == !patch.members.isEmpty)
                #expect(update.twin.version == twin.version + (patch.members.isEmpty ? 0 : 1))
                #expect(update.twin.desired.version == twin.desired.version + (patch.members.isEmpty ? 0 : 1))
                twin = update.twin
                expected = Self.referenceMerge(expected, .object(patch))!
                #expect(Self.canonical(.object(twin.desired.properties)) == Self.canonical(expected))
                #expect(Self.metadataMirrors(twin.desired.properties, twin.desired.metadata))
            }
        }
    }

    @Test("a patch with one bad key anywhere is refused and leaves the twin as it was")
    func refusedPatchChangesNothing() async {
        let input = Dice.generator { dice -> (JSONObject, JSONObject, [Int], String) in
            let twinContent = Self.randomObject(&dice, depth: 2, nulls: false)
            var patch = Self.randomObject(&dice, depth: 2, nulls: true)
            patch["ok"] = .object(Self.randomObject(&dice, depth: 1, nulls: true))
            return (twinContent, patch, (0..<dice.int(0...2)).map { _ in dice.int(0...3) }, dice.pick(["a.b", "$x", "a b", "\u{1}", ""]))
        }
        await propertyCheck(count: 300, input: input) { sample in
            let (content, patch, path, badKey) = sample
            let twin = try Twin.empty(for: T.device1, at: T.t0).applyingReportedPatch(.object(content), at: T.t1).twin
            // Plant the bad key somewhere inside the patch, following `path` through its objects.
            func plant(_ object: JSONObject, _ path: ArraySlice<Int>) -> JSONObject {
                var object = object
                let objects = object.members.filter { if case .object = $0.value { return true } else { return false } }
                if let step = path.first, !objects.isEmpty, case .object(let child) = objects[step % objects.count].value {
                    object[objects[step % objects.count].key] = .object(plant(child, path.dropFirst()))
                } else {
                    object[badKey] = .int(1)
                }
                return object
            }
            let bad = plant(patch, path[...])
            #expect(throws: TwinError.self) { try twin.applyingReportedPatch(.object(bad), at: T.t2) }
            let body = JSONValue.object(JSONObject(["tags": .object(bad)]))
            #expect(throws: TwinError.self) { try twin.applyingServicePatch(body, at: T.t2) }
        }
    }

    @Test("paged results equal the unpaged ones for random fleets, queries and page sizes")
    func pagingProperty() async {
        let queries = [
            "SELECT * FROM devices", "SELECT * FROM devices WHERE tags.a = 1", "SELECT deviceId, tags.b FROM devices WHERE IS_DEFINED(tags.b)",
            "SELECT * FROM devices.modules WHERE tags.a != 1", "SELECT TOP 7 * FROM devices WHERE NOT IS_DEFINED(tags.c)",
            "SELECT tags.a, COUNT() AS n FROM devices GROUP BY tags.a",
        ]
        let input = Dice.generator { dice -> ([QueryDocument], String, Int) in
            var documents: [QueryDocument] = []
            for d in 0..<dice.int(0...30) {
                let device = DeviceID(rawValue: "d\(d)")!
                var ids = [IdentityID(device: device)]
                for m in 0..<dice.int(0...2) { ids.append(IdentityID(device: device, module: ModuleID(rawValue: "m\(m)")!)) }
                for id in ids {
                    var twin = Twin.empty(for: id, at: T.t0)
                    twin.tags = Self.randomObject(&dice, depth: 0, nulls: false)
                    let json =
                        id.module == nil
                        ? TwinJSON.serviceTwin(twin, device: T.device(device.rawValue))
                        : TwinJSON.serviceTwin(
                            twin, module: Module(deviceID: device, id: id.module!, generationID: "g", etag: "e", authentication: .none))
                    documents.append(QueryDocument(identity: id, json: json))
                }
            }
            return (documents.shuffled(using: &dice.rng), dice.pick(queries), dice.int(1...6))
        }
        await propertyCheck(count: 200, input: input) { sample in
            let (documents, query, pageSize) = sample
            let whole = try await QueryFleet.run(query, documents: documents, pageSize: 1000)
            let paged = try await QueryFleet.run(query, documents: documents, pageSize: pageSize)
            #expect(paged.items == whole.items)
            #expect(whole.pages.count == 1)
            #expect(paged.pages.dropLast().allSatisfy { $0 == pageSize })
        }
    }
}

extension Array {
    fileprivate func followed(by other: [Element]) -> [Element] { self + other }
}


