import HTTPTypes
import HubCore
import HubDevices
import HubRegistry
import HubStorage
import HubTwins

/// `/twins/{id}[/modules/{mid}]` (GET, PATCH, PUT) and `POST /devices/query`.
extension ServiceAPI {
    var twinService: TwinService {
        get throws(APIError) {
            guard let devices else { throw APIError(.serviceUnavailable, "twins are not available") }
            return devices.twins
        }
    }

    /// GET / PATCH / PUT of a device or module twin, answered with the full twin (§4.4) and its etag.
    func twinCall(_ call: APICall, module: Bool) async throws(APIError) -> APIResult {
        let twins = try twinService
        let deviceID = try call.deviceID()
        let moduleID = module ? try call.moduleID() : nil
        let identity = IdentityID(device: deviceID, module: moduleID)
        // The identity must exist: 404 DeviceNotFound / ModuleNotFound otherwise.
        let owner = try await identityRecord(deviceID, moduleID)
        let twin: Twin
        let body = call.request.method == .get ? nil : try call.jsonBody
        do throws(TwinError) {
            switch (call.request.method, body) {
            case (.patch, let body?): twin = try await twins.updateTwin(of: identity, patch: body, ifMatch: call.ifMatch)
            case (.put, let body?): twin = try await twins.replaceTwin(of: identity, with: body, ifMatch: call.ifMatch)
            default: twin = try await twins.twin(of: identity)
            }
        } catch {
            throw APIError(error)
        }
        switch owner {
        case .device(let device): return .ok(TwinJSON.serviceTwin(twin, device: await withMessageCount(device)), etag: twin.etag)
        case .module(let module): return .ok(TwinJSON.serviceTwin(twin, module: module), etag: twin.etag)
        }
    }

    private enum IdentityRecord {
        case device(Device)
        case module(Module)
    }

    private func identityRecord(_ deviceID: DeviceID, _ moduleID: ModuleID?) async throws(APIError) -> IdentityRecord {
        if let moduleID {
            return .module(try await perform { () async throws(RegistryError) in try await registry.module(deviceID, moduleID) })
        }
        return .device(try await perform { () async throws(RegistryError) in try await registry.device(deviceID) })
    }

    /// `POST /devices/query` `{"query": "…"}` with `x-ms-max-item-count` / `x-ms-continuation`: a JSON
    /// array, `x-ms-item-type` and (unless it is the last page) `x-ms-continuation`.
    func queryCall(_ call: APICall) async throws(APIError) -> APIResult {
        let twins = try twinService
        let reader = try JSONReader(try call.jsonBody)
        try reader.allowOnly(["query"])
        guard let text = try reader.string("query") else { throw APIError(.argumentNull, "query is required") }
        var pageSize: Int?
        if let header = call.request.headers[HTTPField.Name("x-ms-max-item-count")!] {
            guard let value = Int(header.trimmingSpaces()) else { throw APIError.invalid("x-ms-max-item-count must be an integer") }
            pageSize = value
        }
        let continuation = call.request.headers[HTTPField.Name("x-ms-continuation")!].flatMap { $0.isEmpty ? nil : $0 }
        let page: QueryPage
        do throws(TwinError) {
            let query = try TwinQuery(parsing: text)
            let registry = self.registry
            page = try await TwinQueryExecutor.execute(query, pageSize: pageSize, continuation: continuation) {
                (scope, after, limit) async throws(TwinError) -> [QueryDocument] in
                try await Self.scan(registry: registry, twins: twins, scope: scope, after: after, limit: limit)
            }
        } catch {
            throw APIError(error)
        }
        var result = APIResult.ok(.array(page.items))
        result.headers[HTTPField.Name("x-ms-item-type")!] = page.itemType.rawValue
        if let next = page.continuation { result.headers[HTTPField.Name("x-ms-continuation")!] = next }
        return result
    }

    /// Query documents in identity order from the registry (every identity has a twin, written or not):
    /// devices after `after`, each followed by its modules, as `scope` selects, at most `limit`.
    static func scan(
        registry: DeviceRegistry, twins: TwinService, scope: TwinScope, after: IdentityID?, limit: Int
    ) async throws(TwinError) -> [QueryDocument] {
        var documents: [QueryDocument] = []
        func modules(of device: DeviceID, after cursor: ModuleID?) async throws(TwinError) -> [Module] {
            guard scope != .devices else { return [] }
            do {
                return try await registry.modules(of: device)
                    .filter { module in cursor.map { $0 < module.id } ?? true }
                    .sorted { $0.id < $1.id }
            } catch {
                throw TwinError(.unavailable, "the registry could not be read")
            }
        }
        if let after, after.module != nil || scope != .devices {
            // Finish the cursor's device: its modules after the cursor.
            documents += try await twins.queryDocuments(modules: try await modules(of: after.device, after: after.module))
        }
        var cursor = after?.device
        let batch = 100
        while documents.count < limit {
            let devices: [Device]
            do {
                devices = try await registry.devices(after: cursor, limit: batch)
            } catch {
                throw TwinError(.unavailable, "the registry could not be read")
            }
            for device in devices {
                if scope != .modules { documents += try await twins.queryDocuments(devices: [device]) }
                documents += try await twins.queryDocuments(modules: try await modules(of: device.id, after: nil))
                cursor = device.id
                if documents.count >= limit { break }
            }
            if devices.count < batch { break }
        }
        return Array(documents.prefix(limit))
    }
}

extension APIError {
    /// A query error names its position: `line 1, column 28: expected an expression …`.
    init(_ error: TwinError) {
        var message = error.message
        if let line = error.line, let column = error.column { message = "line \(line), column \(column): \(message)" }
        self.init(Code(error.code.azureName, error.code.azureCode), message)
    }
}
