import HubCore
import HubRegistry
import HubStorage
import Testing

@Suite("DeviceRegistry: modules")
struct DeviceRegistryModuleTests {
    @Test("module lifecycle: create, duplicate, update by etag, list, delete", arguments: Backend.allCases)
    func lifecycle(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        _ = try await env.registry.putDevice(DeviceWrite(id: id("edge")), ifMatch: nil)
        let agent = try await env.registry.putModule(ModuleWrite(deviceID: id("edge"), id: moduleID("edgeAgent"), managedBy: "IotEdge"), ifMatch: nil)
        #expect(agent.authentication.keys?.primary.bytes.count == 32)
        #expect(agent.managedBy == "IotEdge")
        #expect(agent.generationID.count == 18)
        let hub = try await env.registry.putModule(
            ModuleWrite(deviceID: id("edge"), id: moduleID("edgeHub"), authentication: .sas(primaryKey: key(7), secondaryKey: nil)), ifMatch: nil)
        #expect(hub.authentication.keys?.primary == key(7))
        await expectRegistryError(.moduleAlreadyExists) {
            _ = try await env.registry.putModule(ModuleWrite(deviceID: id("edge"), id: moduleID("edgeAgent")), ifMatch: nil)
        }
        await expectRegistryError(.preconditionFailed) {
            _ = try await env.registry.putModule(ModuleWrite(deviceID: id("edge"), id: moduleID("edgeAgent")), ifMatch: "stale")
        }
        let updated = try await env.registry.putModule(
            ModuleWrite(deviceID: id("edge"), id: moduleID("edgeAgent"), authentication: .certificateAuthority), ifMatch: "\"\(agent.etag)\"")
        #expect(updated.etag != agent.etag)
        #expect(updated.generationID == agent.generationID)
        #expect(updated.authentication == .certificateAuthority)
        #expect(try await env.registry.module(id("edge"), moduleID("edgeAgent")) == updated)
        #expect(try await env.registry.modules(of: id("edge")).map(\.id.rawValue) == ["edgeAgent", "edgeHub"])
        await expectRegistryError(.preconditionFailed) { try await env.registry.deleteModule(id("edge"), moduleID("edgeHub"), ifMatch: agent.etag) }
        try await env.registry.deleteModule(id("edge"), moduleID("edgeHub"), ifMatch: hub.etag)
        await expectRegistryError(.moduleNotFound) { _ = try await env.registry.module(id("edge"), moduleID("edgeHub")) }
        await expectRegistryError(.moduleNotFound) { try await env.registry.deleteModule(id("edge"), moduleID("edgeHub"), ifMatch: "*") }
        await expectRegistryError(.moduleNotFound) {
            _ = try await env.registry.putModule(ModuleWrite(deviceID: id("edge"), id: moduleID("edgeHub")), ifMatch: "*")
        }
        // Module writes leave the device's etag alone.
        let device = try await env.registry.device(id("edge"))
        _ = try await env.registry.putModule(ModuleWrite(deviceID: id("edge"), id: moduleID("m3")), ifMatch: nil)
        #expect(try await env.registry.device(id("edge")).etag == device.etag)
    }

    @Test("modules of a missing device are .deviceNotFound", arguments: Backend.allCases)
    func missingDevice(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        await expectRegistryError(.deviceNotFound) {
            _ = try await env.registry.putModule(ModuleWrite(deviceID: id("none"), id: moduleID("m")), ifMatch: nil)
        }
        await expectRegistryError(.deviceNotFound) { _ = try await env.registry.modules(of: id("none")) }
        await expectRegistryError(.deviceNotFound) { _ = try await env.registry.module(id("none"), moduleID("m")) }
        await expectRegistryError(.deviceNotFound) { try await env.registry.deleteModule(id("none"), moduleID("m"), ifMatch: nil) }
    }

    @Test("deleting a device deletes its modules; observers hear each module, then the device", arguments: Backend.allCases)
    func cascade(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        _ = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: nil)
        for m in ["a", "b"] { _ = try await env.registry.putModule(ModuleWrite(deviceID: id("d"), id: moduleID(m)), ifMatch: nil) }
        _ = await env.registry.credentials(for: IdentityID(device: id("d"), module: moduleID("a")))
        let log = ChangeLog()
        env.registry.observe { log.append($0) }
        try await env.registry.deleteDevice(id("d"), ifMatch: "*")
        let kinds = log.changes.map { change -> String in
            switch change {
            case .moduleDeleted(let m): "module \(m.id)"
            case .deviceDeleted(let d): "device \(d.id)"
            default: "other"
            }
        }
        #expect(kinds == ["module a", "module b", "device d"])
        #expect(env.registry.cachedCredentials(for: IdentityID(device: id("d"), module: moduleID("a"))) == nil)
        #expect(try await env.stores.registry.module(id("d"), moduleID("a")) == nil)
        _ = try await env.registry.putDevice(DeviceWrite(id: id("d")), ifMatch: nil)
        #expect(try await env.registry.modules(of: id("d")).isEmpty)
        #expect(await env.registry.credentials(for: IdentityID(device: id("d"), module: moduleID("a"))) == nil)
    }

    @Test("a module's credentials carry its device's status", arguments: Backend.allCases)
    func statusInherited(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        _ = try await env.registry.putDevice(DeviceWrite(id: id("d"), status: .disabled), ifMatch: nil)
        let module = try await env.registry.putModule(ModuleWrite(deviceID: id("d"), id: moduleID("m")), ifMatch: nil)
        let identity = IdentityID(device: id("d"), module: moduleID("m"))
        #expect(env.registry.cachedCredentials(for: identity)?.status == .disabled)
        let loaded = try #require(await env.registry.credentials(for: identity))
        #expect(loaded.status == .disabled)
        #expect(loaded.generationID == module.generationID)
        #expect(loaded.authentication == module.authentication)
        _ = try await env.registry.putDevice(DeviceWrite(id: id("d"), status: .enabled), ifMatch: "*")
        #expect(env.registry.cachedCredentials(for: identity)?.status == .enabled, "the device's new status reaches the cached module")
        _ = try await env.registry.putDevice(DeviceWrite(id: id("d"), status: .disabled), ifMatch: "*")
        #expect(env.registry.cachedCredentials(for: identity)?.status == .disabled)
    }
}
