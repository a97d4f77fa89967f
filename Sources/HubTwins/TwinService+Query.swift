import HubCore
import HubStorage

extension TwinService {
    /// Query documents for registry devices (one scan batch of `FROM devices`): each device's twin,
    /// created if it has none, rendered with `TwinJSON.serviceTwin(_:device:)`. Pass devices in id
    /// order, as `RegistryStore.devices(after:limit:)` lists them.
    ///
    /// A query scan over the registry is how every identity shows up in results, including those whose
    /// twin nobody has written yet (Azure creates a twin with each identity).
    public func queryDocuments(devices: [Device]) async throws(TwinError) -> [QueryDocument] {
        var documents: [QueryDocument] = []
        documents.reserveCapacity(devices.count)
        for device in devices {
            let identity = IdentityID(device: device.id)
            documents.append(QueryDocument(identity: identity, json: TwinJSON.serviceTwin(try await twin(of: identity), device: device)))
        }
        return documents
    }

    /// Query documents for registry modules (`FROM devices.modules`), like `queryDocuments(devices:)`.
    /// Pass modules in (device id, module id) order.
    public func queryDocuments(modules: [Module]) async throws(TwinError) -> [QueryDocument] {
        var documents: [QueryDocument] = []
        documents.reserveCapacity(modules.count)
        for module in modules {
            documents.append(
                QueryDocument(identity: module.identity, json: TwinJSON.serviceTwin(try await twin(of: module.identity), module: module)))
        }
        return documents
    }
}
