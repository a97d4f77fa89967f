import HubCore
import HubTwins
import Testing

@Suite("Twin patches, replacement and versions")
struct TwinPatchTests {
    @Test("an empty twin starts at version 1 with Azure's etag for it")
    func emptyTwin() {
        let twin = T.emptyTwin()
        #expect(twin.version == 1)
        #expect(twin.etag == "AAAAAAAAAAE=")
        #expect(twin.desired.version == 1 && twin.reported.version == 1)
        #expect(twin.desired.metadata == TwinMetadata(lastUpdated: T.t0, lastUpdatedVersion: 1))
        #expect(twin.reported.metadata == TwinMetadata(lastUpdated: T.t0))
        #expect(Twin.etag(forVersion: 2) == "AAAAAAAAAAI=")
        #expect(Twin.etag(forVersion: 256) == "AAAAAAAAAQA=")
    }

    @Test("a service patch merges tags and desired, bumps versions and the etag, stamps metadata")
    func servicePatch() throws {
        let update = try T.emptyTwin().applyingServicePatch(
            T.json(#"{"tags":{"a":1},"properties":{"desired":{"fan":false}}}"#), at: T.t1)
        let twin = update.twin
        #expect(update.changed)
        #expect(twin.version == 2 && twin.etag == "AAAAAAAAAAI=")
        #expect(twin.tags == T.object(#"{"a":1}"#))
        #expect(twin.desired.properties == T.object(#"{"fan":false}"#))
        #expect(twin.desired.version == 2)
        #expect(twin.reported.version == 1, "reported untouched")
        #expect(twin.desired.metadata.lastUpdated == T.t1 && twin.desired.metadata.lastUpdatedVersion == 2)
        #expect(twin.desired.metadata.members["fan"] == TwinMetadata(lastUpdated: T.t1, lastUpdatedVersion: 2))
        #expect(update.desiredChange == T.object(#"{"fan":false}"#))
    }

    @Test("objects merge recursively, null deletes, other values replace (RFC 7386)")
    func mergeSemantics() throws {
        var twin = try T.emptyTwin().applyingServicePatch(
            T.json(#"{"properties":{"desired":{"a":{"b":1,"c":2},"x":"old","o":{"k":1}}}}"#), at: T.t1
        ).twin
        let update = try twin.applyingServicePatch(
            T.json(#"{"properties":{"desired":{"a":{"b":null,"d":3},"x":{"n":null,"m":[1,2]},"o":7,"gone":null}}}"#), at: T.t2)
        twin = update.twin
        #expect(twin.desired.properties == T.object(#"{"a":{"c":2,"d":3},"x":{"m":[1,2]},"o":7}"#))
        let a = try #require(twin.desired.metadata.members["a"])
        #expect(a.lastUpdated == T.t2 && a.lastUpdatedVersion == 3, "a parent of a changed leaf is stamped")
        #expect(a.members["c"] == TwinMetadata(lastUpdated: T.t1, lastUpdatedVersion: 2), "an untouched leaf keeps its stamp")
        #expect(a.members["d"] == TwinMetadata(lastUpdated: T.t2, lastUpdatedVersion: 3))
        #expect(a.members["b"] == nil, "a deleted member's metadata goes with it")
        #expect(twin.desired.metadata.members["x"]?.members.keys.sorted() == ["m"])
        #expect(twin.desired.metadata.members["o"]?.members.isEmpty == true, "a leaf has no member metadata")
        #expect(update.desiredChange?["gone"] == .null, "the notification keeps the patch's nulls")
    }

    @Test("a patch that names a value without changing it still counts, as in Azure")
    func sameValueCounts() throws {
        let first = try T.emptyTwin().applyingReportedPatch(T.json(#"{"battery":0.5}"#), at: T.t1).twin
        let second = try first.applyingReportedPatch(T.json(#"{"battery":0.5}"#), at: T.t2)
        #expect(second.changed)
        #expect(second.twin.reported.version == 3)
        #expect(second.twin.reported.metadata.members["battery"]?.lastUpdated == T.t2)
    }

    @Test("an empty patch changes nothing")
    func emptyPatch() throws {
        let twin = T.emptyTwin()
        for body in [#"{}"#, #"{"tags":{}}"#, #"{"properties":{"desired":{}}}"#, #"{"properties":{}}"#] {
            let update = try twin.applyingServicePatch(T.json(body), at: T.t1)
            #expect(!update.changed && update.twin == twin && update.desiredChange == nil, "\(body)")
        }
        let reported = try twin.applyingReportedPatch(T.json("{}"), at: T.t1)
        #expect(!reported.changed && reported.twin == twin)
    }

    @Test("a tags-only patch bumps the twin version but not desired's")
    func tagsOnly() throws {
        let update = try T.emptyTwin().applyingServicePatch(T.json(#"{"tags":{"fleet":"north"}}"#), at: T.t1)
        #expect(update.twin.version == 2)
        #expect(update.twin.desired.version == 1)
        #expect(update.desiredChange == nil)
    }

    @Test("reported properties in a service patch are refused and change nothing")
    func reportedInServicePatch() {
        let twin = T.emptyTwin()
        T.expectError(.invalid) {
            try twin.applyingServicePatch(T.json(#"{"tags":{"a":1},"properties":{"reported":{"x":1}}}"#), at: T.t1)
        }
        #expect(twin == T.emptyTwin())
    }

    @Test("a service body may carry the twin's read-only members and must name this twin", arguments: [
        (#"{"deviceId":"dev1","moduleId":null,"etag":"x","version":9,"status":"enabled","tags":{"a":1}}"#, true),
        (#"{"properties":{"desired":{"a":1,"$version":7,"$metadata":{"$lastUpdated":"x"}}}}"#, true),
        (#"{"deviceId":"dev2","tags":{"a":1}}"#, false),
        (#"{"moduleId":"m1","tags":{"a":1}}"#, false),
        (#"{"surprise":1}"#, false),
        (#"{"properties":{"other":{}}}"#, false),
        (#"{"tags":null}"#, false),
        (#"{"tags":[1]}"#, false),
        (#"[1]"#, false),
    ])
    func serviceBodyShape(body: String, accepted: Bool) throws {
        let twin = T.emptyTwin()
        if accepted {
            let update = try twin.applyingServicePatch(T.json(body), at: T.t1)
            #expect(update.changed)
            #expect(update.twin.desired.properties["$version"] == nil)
        } else {
            T.expectError(.invalid) { try twin.applyingServicePatch(T.json(body), at: T.t1) }
        }
    }

    @Test("a replacement replaces tags and desired, keeps reported, and notifies the whole desired section")
    func replace() throws {
        var twin = try T.emptyTwin().applyingServicePatch(
            T.json(#"{"tags":{"a":1,"b":2},"properties":{"desired":{"keep":1,"drop":2}}}"#), at: T.t1
        ).twin
        twin = try twin.applyingReportedPatch(T.json(#"{"r":true}"#), at: T.t1).twin
        let update = try twin.replacingFromService(
            T.json(#"{"tags":{"a":2},"properties":{"desired":{"keep":1,"new":3},"reported":{"ignored":1}}}"#), at: T.t2)
        let next = update.twin
        #expect(next.tags == T.object(#"{"a":2}"#))
        #expect(next.desired.properties == T.object(#"{"keep":1,"new":3}"#))
        #expect(next.reported == twin.reported)
        #expect(next.desired.version == twin.desired.version + 1)
        #expect(next.version == twin.version + 1)
        #expect(next.desired.metadata.members["keep"] == twin.desired.metadata.members["keep"], "an unchanged leaf keeps its stamp")
        #expect(next.desired.metadata.members["new"]?.lastUpdated == T.t2)
        #expect(next.desired.metadata.lastUpdated == T.t2)
        #expect(update.desiredChange == T.object(#"{"keep":1,"new":3}"#))
    }

    @Test("a replacement with the same content (in any order) changes nothing")
    func replaceSame() throws {
        let twin = try T.emptyTwin().applyingServicePatch(
            T.json(#"{"tags":{"a":1,"b":{"c":2}},"properties":{"desired":{"x":1.0,"y":"s"}}}"#), at: T.t1
        ).twin
        let update = try twin.replacingFromService(
            T.json(#"{"tags":{"b":{"c":2},"a":1},"properties":{"desired":{"y":"s","x":1}}}"#), at: T.t2)
        #expect(!update.changed && update.twin == twin && update.desiredChange == nil)
    }

    @Test("a replacement without desired clears it; with the same desired only tags change")
    func replaceSections() throws {
        let twin = try T.emptyTwin().applyingServicePatch(T.json(#"{"properties":{"desired":{"x":1}}}"#), at: T.t1).twin
        let tagsOnly = try twin.replacingFromService(T.json(#"{"tags":{"t":1},"properties":{"desired":{"x":1}}}"#), at: T.t2)
        #expect(tagsOnly.changed && tagsOnly.desiredChange == nil && tagsOnly.twin.desired == twin.desired)
        let cleared = try twin.replacingFromService(T.json(#"{"tags":{"t":1}}"#), at: T.t2)
        #expect(cleared.twin.desired.properties.members.isEmpty)
        #expect(cleared.desiredChange == JSONObject())
        #expect(cleared.twin.desired.version == twin.desired.version + 1)
    }

    @Test("a reported patch bumps reported $version and stamps metadata without $lastUpdatedVersion")
    func reportedPatch() throws {
        let update = try T.emptyTwin().applyingReportedPatch(T.json(#"{"battery":0.15,"fw":{"v":"1.2"}}"#), at: T.t1)
        let twin = update.twin
        #expect(twin.reported.version == 2)
        #expect(twin.version == 2)
        #expect(twin.desired.version == 1)
        #expect(update.desiredChange == nil)
        #expect(twin.reported.metadata.members["fw"]?.members["v"] == TwinMetadata(lastUpdated: T.t1))
        #expect(twin.reported.metadata.lastUpdatedVersion == nil)
        T.expectError(.invalid) { try twin.applyingReportedPatch(T.json("[1]"), at: T.t1) }
    }

    @Test("every change bumps the twin version by one and gives a new etag")
    func versionsIncrease() throws {
        var twin = T.emptyTwin()
        var etags: Set<String> = [twin.etag]
        for i in 0..<20 {
            let body = i % 2 == 0 ? #"{"tags":{"n":\#(i)}}"# : #"{"properties":{"desired":{"n":\#(i)}}}"#
            twin = try twin.applyingServicePatch(T.json(body), at: T.t1).twin
            etags.insert(twin.etag)
            twin = try twin.applyingReportedPatch(T.json(#"{"n":\#(i)}"#), at: T.t1).twin
            etags.insert(twin.etag)
        }
        #expect(twin.version == 41)
        #expect(etags.count == 41)
        #expect(twin.desired.version == 11 && twin.reported.version == 21)
    }
}
