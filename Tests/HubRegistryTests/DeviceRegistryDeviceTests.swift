import HubCore
import HubRegistry
import HubStorage
import Testing

@Suite("DeviceRegistry: devices")
struct DeviceRegistryDeviceTests {
    @Test("create without If-Match: generated 256-bit SAS keys, etag, generation id, statusUpdatedTime", arguments: Backend.allCases)
    func create(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let device = try await env.registry.putDevice(DeviceWrite(id: id("dev1")), ifMatch: nil)
        #expect(device.id == id("dev1"))
        let keys = try #require(device.authentication.keys)
        #expect(keys.primary.bytes.count == 32 && keys.secondary.bytes.count == 32)
        #expect(keys.primary != keys.secondary)
        #expect(!device.etag.isEmpty && Base64.decode(device.etag) != nil, "etags are opaque base64")
        #expect(device.generationID.count == 18 && device.generationID.allSatisfy(\.isNumber))
        #expect(device.status == .enabled)
        #expect(device.connectionState == .disconnected)
        #expect(device.statusUpdatedTime == env.clock.now())
        #expect(try await env.registry.device(id("dev1")) == device)
        #expect(try await env.stores.registry.device(id("dev1")) == device, "the store holds what was returned")
    }

    @Test("create of an existing id is .deviceAlreadyExists (409) and changes nothing", arguments: Backend.allCases)
    func duplicate(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let original = try await env.registry.putDevice(DeviceWrite(id: id("dup")), ifMatch: nil)
        let error = await expectRegistryError(.deviceAlreadyExists) {
            _ = try await env.registry.putDevice(DeviceWrite(id: id("dup"), status: .disabled), ifMatch: nil)
        }
        #expect(error?.code.httpStatus == 409)
        #expect(error?.code.azureCode == 409001)
        #expect(try await env.registry.device(id("dup")) == original)
    }

    @Test("supplied keys are kept; a nil key is generated", arguments: Backend.allCases)
    func suppliedKeys(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let both = try await env.registry.putDevice(
            DeviceWrite(id: id("both"), authentication: .sas(primaryKey: key(1, count: 16), secondaryKey: key(2, count: 64))), ifMatch: nil)
        #expect(both.authentication == .sas(primaryKey: key(1, count: 16), secondaryKey: key(2, count: 64)))
        let half = try await env.registry.putDevice(
            DeviceWrite(id: id("half"), authentication: .sas(primaryKey: key(3), secondaryKey: nil)), ifMatch: nil)
        #expect(half.authentication.keys?.primary == key(3))
        #expect(half.authentication.keys?.secondary.bytes.count == 32)
    }

    @Test("update with If-Match: a matching etag, *, \"*\", a quoted etag; a new etag each time", arguments: Backend.allCases)
    func ifMatchForms(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let created = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: nil)
        var etags = [created.etag]
        for form in [created.etag, "*", "\"*\"", " * ", "W/\"*\""] {
            let current = try await env.registry.device(id("d"))
            let header = form == created.etag ? current.etag : form
            let updated = try await env.registry.putDevice(DeviceWrite(id: id("d"), statusReason: form), ifMatch: header)
            #expect(updated.statusReason == form)
            etags.append(updated.etag)
        }
        let current = try await env.registry.device(id("d"))
        let quoted = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: "\"\(current.etag)\"")
        etags.append(quoted.etag)
        #expect(Set(etags).count == etags.count, "every write mints a new etag")
        #expect(quoted.generationID == created.generationID, "updates keep the generation id")
    }

    @Test("a stale or wrong etag is .preconditionFailed (412001) and changes nothing", arguments: Backend.allCases)
    func staleEtag(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let v1 = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: nil)
        let v2 = try await env.registry.putDevice(DeviceWrite(id: id("d"), status: .disabled), ifMatch: v1.etag)
        for wrong in [v1.etag, "\"\(v1.etag)\"", "", "\"\"", v2.etag.lowercased() == v2.etag ? "x" : v2.etag.lowercased(), "**"] {
            let error = await expectRegistryError(.preconditionFailed) {
                _ = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: wrong)
            }
            #expect(error?.code.azureCode == 412001)
            await expectRegistryError(.preconditionFailed) { try await env.registry.deleteDevice(id("d"), ifMatch: wrong) }
        }
        #expect(try await env.registry.device(id("d")) == v2)
    }

    @Test("update or delete of a missing device is .deviceNotFound", arguments: Backend.allCases)
    func missing(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        await expectRegistryError(.deviceNotFound) { _ = try await env.registry.device(id("ghost")) }
        await expectRegistryError(.deviceNotFound) { _ = try await env.registry.putDevice(DeviceWrite(id: id("ghost")), ifMatch: "*") }
        await expectRegistryError(.deviceNotFound) { try await env.registry.deleteDevice(id("ghost"), ifMatch: "*") }
        await expectRegistryError(.deviceNotFound) { try await env.registry.deleteDevice(id("ghost"), ifMatch: nil) }
        await expectRegistryError(.deviceNotFound) { _ = try await env.registry.regenerateKey(id("ghost"), .primary) }
        #expect(try await env.registry.statistics().total == 0)
    }

    @Test("an update without keys generates new ones, as Azure does; statusUpdatedTime moves only with the status", arguments: Backend.allCases)
    func updateSemantics(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let v1 = try await env.registry.putDevice(
            DeviceWrite(id: id("d"), authentication: .sas(primaryKey: key(1), secondaryKey: key(2))), ifMatch: nil)
        env.clock.advance(milliseconds: 1000)
        let kept = try await env.registry.putDevice(
            DeviceWrite(id: id("d"), authentication: .sas(primaryKey: key(1), secondaryKey: key(2)), isEdgeDevice: true), ifMatch: "*")
        #expect(kept.authentication == v1.authentication)
        #expect(kept.isEdgeDevice)
        #expect(kept.statusUpdatedTime == v1.statusUpdatedTime)
        env.clock.advance(milliseconds: 1000)
        let disabled = try await env.registry.putDevice(DeviceWrite(id: id("d"), status: .disabled, statusReason: "stolen"), ifMatch: "*")
        #expect(disabled.statusUpdatedTime == env.clock.now())
        #expect(disabled.authentication.keys != nil)
        #expect(disabled.authentication != v1.authentication, "no keys sent → fresh keys")
        // Switching to X.509 and back.
        let x509 = try await env.registry.putDevice(
            DeviceWrite(id: id("d"), authentication: .selfSigned(primaryThumbprint: "ab:cd" + String(repeating: "0", count: 36), secondaryThumbprint: nil)),
            ifMatch: "*")
        #expect(x509.authentication == .selfSigned(primaryThumbprint: "ABCD" + String(repeating: "0", count: 36), secondaryThumbprint: nil))
        let ca = try await env.registry.putDevice(DeviceWrite(id: id("d"), authentication: .certificateAuthority), ifMatch: "*")
        #expect(ca.authentication == .certificateAuthority)
        #expect(ca.generationID == v1.generationID)
    }

    @Test("validation: statusReason ≤ 128, thumbprints 40 or 64 hex, at least one thumbprint", arguments: Backend.allCases)
    func validation(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        _ = try await env.registry.putDevice(DeviceWrite(id: id("ok"), statusReason: String(repeating: "é", count: 128)), ifMatch: nil)
        let bad: [DeviceWrite] = [
            DeviceWrite(id: id("a"), statusReason: String(repeating: "x", count: 129)),
            DeviceWrite(id: id("b"), authentication: .selfSigned(primaryThumbprint: "1234", secondaryThumbprint: nil)),
            DeviceWrite(id: id("c"), authentication: .selfSigned(primaryThumbprint: String(repeating: "G", count: 40), secondaryThumbprint: nil)),
            DeviceWrite(id: id("d"), authentication: .selfSigned(primaryThumbprint: nil, secondaryThumbprint: nil)),
            DeviceWrite(id: id("e"), authentication: .selfSigned(primaryThumbprint: String(repeating: "A", count: 40), secondaryThumbprint: "nope")),
            DeviceWrite(id: id("f"), deviceScope: String(repeating: "s", count: 2000)),
            DeviceWrite(id: id("g"), parentScopes: Array(repeating: "p", count: 11)),
        ]
        for write in bad {
            let error = await expectRegistryError(.invalidArgument) { _ = try await env.registry.putDevice(write, ifMatch: nil) }
            #expect(error?.code.httpStatus == 400)
        }
        let sha256 = try await env.registry.putDevice(
            DeviceWrite(
                id: id("sha256"),
                authentication: .selfSigned(primaryThumbprint: nil, secondaryThumbprint: String(repeating: "ab", count: 32))), ifMatch: nil)
        #expect(sha256.authentication == .selfSigned(primaryThumbprint: nil, secondaryThumbprint: String(repeating: "AB", count: 32)))
        #expect(try await env.registry.statistics().total == 2)
    }

    @Test("delete then re-create gives a new generation id (S3); modules do not come back", arguments: Backend.allCases)
    func recreate(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let first = try await env.registry.putDevice(DeviceWrite(id: id("phoenix")), ifMatch: nil)
        _ = try await env.registry.putModule(ModuleWrite(deviceID: id("phoenix"), id: moduleID("m")), ifMatch: nil)
        try await env.registry.deleteDevice(id("phoenix"), ifMatch: "\"\(first.etag)\"")
        await expectRegistryError(.deviceNotFound) { _ = try await env.registry.device(id("phoenix")) }
        let second = try await env.registry.putDevice(DeviceWrite(id: id("phoenix")), ifMatch: nil)
        #expect(second.generationID != first.generationID)
        #expect(second.etag != first.etag)
        #expect(try await env.registry.modules(of: id("phoenix")).isEmpty)
    }

    @Test("devices(top:) is ordered by id and clamped to 1…maximumListSize", arguments: Backend.allCases)
    func listing(_ backend: Backend) async throws {
        var configuration = DeviceRegistry.Configuration.testDefaults
        configuration.maximumListSize = 5
        let env = try backend.make(configuration: configuration)
        defer { env.cleanUp() }
        for raw in ["b", "a", "C", "_", "d", "e", "f"] {
            _ = try await env.registry.putDevice(DeviceWrite(id: id(raw)), ifMatch: nil)
        }
        #expect(try await env.registry.devices(top: 3).map(\.id.rawValue) == ["C", "_", "a"])
        #expect(try await env.registry.devices(top: 0).map(\.id.rawValue) == ["C"])
        #expect(try await env.registry.devices(top: -7).count == 1)
        #expect(try await env.registry.devices(top: 1000).map(\.id.rawValue) == ["C", "_", "a", "b", "d"])
        #expect(try await env.registry.devices(top: .max).count == 5)
    }

    @Test("statistics count enabled and disabled devices", arguments: Backend.allCases)
    func statistics(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        #expect(try await env.registry.statistics() == DeviceCounts(total: 0, enabled: 0, disabled: 0))
        for i in 0..<4 { _ = try await env.registry.putDevice(DeviceWrite(id: id("on\(i)")), ifMatch: nil) }
        for i in 0..<2 { _ = try await env.registry.putDevice(DeviceWrite(id: id("off\(i)"), status: .disabled), ifMatch: nil) }
        _ = try await env.registry.putDevice(DeviceWrite(id: id("on0"), status: .disabled), ifMatch: "*")
        try await env.registry.deleteDevice(id("off1"), ifMatch: "*")
        #expect(try await env.registry.statistics() == DeviceCounts(total: 5, enabled: 3, disabled: 2))
    }

    @Test("regenerateKey replaces the primary or secondary key or swaps them, with a new etag", arguments: Backend.allCases)
    func regenerate(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let v0 = try await env.registry.putDevice(
            DeviceWrite(id: id("k"), authentication: .sas(primaryKey: key(1), secondaryKey: key(2))), ifMatch: nil)
        let v1 = try await env.registry.regenerateKey(id("k"), .primary)
        #expect(v1.authentication.keys?.secondary == key(2))
        #expect(v1.authentication.keys?.primary != key(1))
        #expect(v1.authentication.keys?.primary.bytes.count == 32)
        #expect(v1.etag != v0.etag)
        let v2 = try await env.registry.regenerateKey(id("k"), .secondary)
        #expect(v2.authentication.keys?.primary == v1.authentication.keys?.primary)
        #expect(v2.authentication.keys?.secondary != key(2))
        let v3 = try await env.registry.regenerateKey(id("k"), .swap)
        #expect(v3.authentication.keys?.primary == v2.authentication.keys?.secondary)
        #expect(v3.authentication.keys?.secondary == v2.authentication.keys?.primary)
        #expect(Set([v0.etag, v1.etag, v2.etag, v3.etag]).count == 4)
        #expect(try await env.registry.device(id("k")) == v3)
        #expect(v3.generationID == v0.generationID)
        // Only SAS devices have keys.
        _ = try await env.registry.putDevice(DeviceWrite(id: id("x"), authentication: .certificateAuthority), ifMatch: nil)
        await expectRegistryError(.invalidArgument) { _ = try await env.registry.regenerateKey(id("x"), .primary) }
    }
}
