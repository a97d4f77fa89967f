import HubCore
import HubTwins
import Testing

@Suite("Twin JSON renderers")
struct TwinJSONTests {
    /// The twin of protocol reference §4.4: tags site=a, desired fan=true at $version 2, reported empty.
    static func referenceTwin() throws -> Twin {
        var twin = try T.emptyTwin().applyingServicePatch(
            T.json(#"{"tags":{"site":"a"},"properties":{"desired":{"fan":true}}}"#), at: T.t0
        ).twin
        twin.etag = "AAAAAAAAAAE="  // §4.4 shows this etag beside version 2
        return twin
    }

    @Test("the service twin has §4.4's shape, member for member")
    func serviceTwin() throws {
        let rendered = TwinJSON.serviceTwin(try Self.referenceTwin(), device: T.device("dev1"))
        let expected =
            #"{"deviceId":"dev1","moduleId":null,"etag":"AAAAAAAAAAE=","deviceEtag":"MQ==","status":"enabled","#
            + #""statusReason":null,"statusUpdateTime":"0001-01-01T00:00:00Z","connectionState":"Disconnected","#
            + #""lastActivityTime":"0001-01-01T00:00:00Z","cloudToDeviceMessageCount":0,"authenticationType":"sas","#
            + #""x509Thumbprint":{"primaryThumbprint":null,"secondaryThumbprint":null},"modelId":"","version":2,"#
            + #""tags":{"site":"a"},"#
            + #""properties":{"#
            + #""desired":{"fan":true,"#
            + #""$metadata":{"$lastUpdated":"2024-01-01T00:00:00.000Z","$lastUpdatedVersion":2,"#
            + #""fan":{"$lastUpdated":"2024-01-01T00:00:00.000Z","$lastUpdatedVersion":2}},"#
            + #""$version":2},"#
            + #""reported":{"$metadata":{"$lastUpdated":"2024-01-01T00:00:00.000Z"},"$version":1}},"#
            + #""capabilities":{"iotEdge":false},"deviceScope":null,"parentScopes":[]}"#
        #expect(T.text(rendered) == expected)
    }

    @Test("identity fields come from the device; $metadata mirrors nested objects")
    func identityAndNestedMetadata() throws {
        var device = T.device("dev1", etag: "Mg==")
        device.status = .disabled
        device.statusReason = "maintenance"
        device.statusUpdatedTime = T.t1
        device.connectionState = .connected
        device.lastActivityTime = T.t2
        device.authentication = .selfSigned(primaryThumbprint: "AB", secondaryThumbprint: nil)
        device.isEdgeDevice = true
        device.parentScopes = ["scope"]
        let twin = try T.emptyTwin().applyingReportedPatch(T.json(#"{"fw":{"v":"1","parts":[1,2]}}"#), at: T.t1).twin
        guard case .object(let object) = TwinJSON.serviceTwin(twin, device: device) else { Issue.record("not an object"); return }
        #expect(object["status"] == .string("disabled"))
        #expect(object["statusReason"] == .string("maintenance"))
        #expect(object["statusUpdateTime"] == .string("2024-01-01T00:00:01.000Z"))
        #expect(object["connectionState"] == .string("Connected"))
        #expect(object["lastActivityTime"] == .string("2024-01-01T00:00:02.000Z"))
        #expect(object["authenticationType"] == .string("selfSigned"))
        #expect(T.text(object["x509Thumbprint"]!) == #"{"primaryThumbprint":"AB","secondaryThumbprint":null}"#)
        #expect(T.text(object["capabilities"]!) == #"{"iotEdge":true}"#)
        #expect(object["parentScopes"] == .array([.string("scope")]))
        let reported = T.text(TwinJSON.section(twin.reported, metadata: true))
        #expect(
            reported
                == #"{"fw":{"v":"1","parts":[1,2]},"$metadata":{"$lastUpdated":"2024-01-01T00:00:01.000Z","#
                + #""fw":{"$lastUpdated":"2024-01-01T00:00:01.000Z","v":{"$lastUpdated":"2024-01-01T00:00:01.000Z"},"#
                + #""parts":{"$lastUpdated":"2024-01-01T00:00:01.000Z"}}},"$version":2}"#)
    }

    @Test("a module twin names the module and uses the module's etag")
    func moduleTwin() throws {
        let identity = IdentityID(device: DeviceID(rawValue: "dev1")!, module: ModuleID(rawValue: "mod1")!)
        let module = Module(
            deviceID: identity.device, id: identity.module!, generationID: "g", etag: "bW9k", authentication: .certificateAuthority)
        let rendered = TwinJSON.serviceTwin(T.emptyTwin(identity), module: module)
        guard case .object(let object) = rendered else { Issue.record("not an object"); return }
        #expect(object.keys == [
            "deviceId", "moduleId", "etag", "deviceEtag", "status", "statusReason", "statusUpdateTime", "connectionState",
            "lastActivityTime", "cloudToDeviceMessageCount", "authenticationType", "x509Thumbprint", "modelId", "version",
            "tags", "properties",
        ])
        #expect(object["moduleId"] == .string("mod1"))
        #expect(object["deviceEtag"] == .string("bW9k"))
        #expect(object["authenticationType"] == .string("certificateAuthority"))
    }

    @Test("the device GET body has both sections with $version and nothing else")
    func deviceTwin() throws {
        var twin = try Self.referenceTwin()
        twin = try twin.applyingReportedPatch(T.json(#"{"battery":0.5}"#), at: T.t1).twin
        #expect(
            T.text(TwinJSON.deviceTwin(twin)) == #"{"desired":{"fan":true,"$version":2},"reported":{"battery":0.5,"$version":2}}"#)
        #expect(T.text(TwinJSON.deviceTwin(T.emptyTwin())) == #"{"desired":{"$version":1},"reported":{"$version":1}}"#)
    }

    @Test("the desired notification is the applied patch with $version inside")
    func notification() throws {
        let update = try T.emptyTwin().applyingServicePatch(T.json(#"{"properties":{"desired":{"fan":false,"old":null}}}"#), at: T.t1)
        let body = TwinJSON.desiredNotification(try #require(update.desiredChange), version: update.twin.desired.version)
        #expect(T.text(body) == #"{"fan":false,"old":null,"$version":2}"#)
    }

    @Test("times are ISO 8601 with milliseconds, before 1970 too")
    func times() {
        #expect(T.t0.iso8601 == "2024-01-01T00:00:00.000Z")
        #expect(Timestamp(rawValue: 1_710_410_089_653).iso8601 == "2024-03-14T09:54:49.653Z")
        #expect(Timestamp(rawValue: -1).iso8601 == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.azureText(nil) == "0001-01-01T00:00:00Z")
    }
}
