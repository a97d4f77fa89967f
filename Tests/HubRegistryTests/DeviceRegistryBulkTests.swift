import HubCore
import HubRegistry
import HubStorage
import Testing

@Suite("DeviceRegistry: bulk")
struct DeviceRegistryBulkTests {
    @Test("more than 100 entries is .tooManyDevices (413002); exactly 100 is fine", arguments: Backend.allCases)
    func limit(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let tooMany = (0...100).map { BulkOperation(mode: .create, device: DeviceWrite(id: id("d\($0)"))) }
        let error = await expectRegistryError(.tooManyDevices) { _ = try await env.registry.bulk(tooMany) }
        #expect(error?.code.azureCode == 413002)
        #expect(try await env.registry.statistics().total == 0, "nothing of a refused batch is applied")
        let result = try await env.registry.bulk(Array(tooMany.dropLast()))
        #expect(result.isSuccessful)
        #expect(try await env.registry.statistics().total == 100)
    }

    @Test("an id twice in one batch is .invalidArgument and nothing is applied", arguments: Backend.allCases)
    func duplicateInBatch(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let operations = [
            BulkOperation(mode: .create, device: DeviceWrite(id: id("a"))),
            BulkOperation(mode: .create, device: DeviceWrite(id: id("b"))),
            BulkOperation(mode: .delete, device: DeviceWrite(id: id("a"))),
        ]
        await expectRegistryError(.invalidArgument) { _ = try await env.registry.bulk(operations) }
        #expect(try await env.registry.statistics().total == 0)
        // Ids differing only in case are different devices.
        let result = try await env.registry.bulk([
            BulkOperation(mode: .create, device: DeviceWrite(id: id("a"))), BulkOperation(mode: .create, device: DeviceWrite(id: id("A"))),
        ])
        #expect(result.isSuccessful)
    }

    @Test("each entry applies on its own: mixed successes and per-entry failures", arguments: Backend.allCases)
    func mixed(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let existing = try await env.registry.putDevice(DeviceWrite(id: id("existing")), ifMatch: nil)
        let doomed = try await env.registry.putDevice(DeviceWrite(id: id("doomed")), ifMatch: nil)
        _ = try await env.registry.putDevice(DeviceWrite(id: id("guarded")), ifMatch: nil)
        _ = try await env.registry.putDevice(DeviceWrite(id: id("twin")), ifMatch: nil)
        let operations = [
            BulkOperation(mode: .create, device: DeviceWrite(id: id("new1"))),
            BulkOperation(mode: .create, device: DeviceWrite(id: id("existing"), status: .disabled)),
            BulkOperation(mode: .update, device: DeviceWrite(id: id("missing"))),
            BulkOperation(mode: .updateIfMatchETag, device: DeviceWrite(id: id("guarded"), status: .disabled), etag: "stale"),
            BulkOperation(mode: .deleteIfMatchETag, device: DeviceWrite(id: id("doomed")), etag: "\"\(doomed.etag)\""),
            BulkOperation(mode: .deleteIfMatchETag, device: DeviceWrite(id: id("noetag")), etag: nil),
            BulkOperation(mode: .delete, device: DeviceWrite(id: id("never"))),
            BulkOperation(mode: .create, device: DeviceWrite(id: id("badreason"), statusReason: String(repeating: "x", count: 200))),
            BulkOperation(mode: .updateTwin, device: DeviceWrite(id: id("twin"))),
            BulkOperation(mode: .updateTwinIfMatchETag, device: DeviceWrite(id: id("notwin")), etag: "x"),
            BulkOperation(mode: .create, device: DeviceWrite(id: id("new2"), status: .disabled)),
        ]
        let result = try await env.registry.bulk(operations)
        #expect(!result.isSuccessful)
        let failures = result.errors.map { "\($0.deviceID) \($0.operation.rawValue) \($0.error.code.azureName)" }
        #expect(failures == [
            "existing create DeviceAlreadyExists",
            "missing update DeviceNotFound",
            "guarded updateIfMatchETag PreconditionFailed",
            "noetag deleteIfMatchETag ArgumentInvalid",
            "never delete DeviceNotFound",
            "badreason create ArgumentInvalid",
            "notwin updateTwinIfMatchETag DeviceNotFound",
        ])
        // The successes took effect; the failures changed nothing.
        #expect(try await env.registry.device(id("new1")).status == .enabled)
        #expect(try await env.registry.device(id("new2")).status == .disabled)
        #expect(try await env.registry.device(id("existing")) == existing)
        #expect(try await env.registry.device(id("guarded")).status == .enabled)
        await expectRegistryError(.deviceNotFound) { _ = try await env.registry.device(id("doomed")) }
        #expect(try await env.registry.statistics() == DeviceCounts(total: 5, enabled: 4, disabled: 1))
    }

    @Test("update and updateIfMatchETag with the current etag succeed", arguments: Backend.allCases)
    func updates(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let a = try await env.registry.putDevice(DeviceWrite(id: id("a")), ifMatch: nil)
        _ = try await env.registry.putDevice(DeviceWrite(id: id("b")), ifMatch: nil)
        let result = try await env.registry.bulk([
            BulkOperation(mode: .updateIfMatchETag, device: DeviceWrite(id: id("a"), status: .disabled), etag: a.etag),
            BulkOperation(mode: .update, device: DeviceWrite(id: id("b"), statusReason: "moved")),
        ])
        #expect(result.isSuccessful)
        #expect(result.errors.isEmpty)
        #expect(try await env.registry.device(id("a")).status == .disabled)
        #expect(try await env.registry.device(id("b")).statusReason == "moved")
        #expect(try await env.registry.bulk([]).isSuccessful)
    }
}
