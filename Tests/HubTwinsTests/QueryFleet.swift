import HubCore
import HubTwins
import Testing

/// The fixed fleet the query tests run over: eight device twins and three module twins, rendered as
/// the service sees them.
enum QueryFleet {
    struct Spec {
        var id: String
        var tags: String = "{}"
        var desired: String = "{}"
        var reported: String = "{}"
        var status: DeviceStatus = .enabled
        var statusReason: String?
        var connected = false
        var edge = false
    }

    static let specs: [Spec] = [
        Spec(id: "d1", tags: #"{"fleet":"north","site":"a"}"#, reported: #"{"battery":0.125}"#, connected: true),
        Spec(id: "d2", tags: #"{"fleet":"north"}"#, reported: #"{"battery":0.5}"#),
        Spec(id: "d3", tags: #"{"fleet":"south"}"#, reported: #"{"battery":0.09375}"#, status: .disabled, statusReason: "maintenance"),
        Spec(id: "d4", tags: #"{"fleet":"north"}"#, reported: #"{"battery":0.0625}"#, edge: true),
        Spec(id: "d5"),
        Spec(id: "d6", tags: #"{"fleet":"North"}"#, reported: #"{"battery":0.1875}"#),
        Spec(
            id: "d7", tags: #"{"fleet":"east","note":"it's \"x\" 🚁"}"#, desired: #"{"fan":true}"#, reported: #"{"battery":0.9}"#,
            status: .disabled),
        Spec(id: "d8", tags: #"{"fleet":"north","location":{"region":"eu"},"list":[1,2,3]}"#, reported: #"{"battery":"low"}"#),
    ]

    static let modules: [(device: String, module: String, tags: String, reported: String)] = [
        ("d1", "m1", #"{"role":"gateway"}"#, "{}"),
        ("d1", "m2", "{}", "{}"),
        ("d3", "m1", "{}", #"{"temp":20}"#),
    ]

    static func twin(_ identity: IdentityID, tags: String, desired: String, reported: String) -> Twin {
        var twin = Twin.empty(for: identity, at: T.t0)
        twin = try! twin.applyingServicePatch(
            T.json(#"{"tags":\#(tags),"properties":{"desired":\#(desired)}}"#), at: T.t1
        ).twin
        return try! twin.applyingReportedPatch(T.json(reported), at: T.t2).twin
    }

    static func device(_ spec: Spec) -> Device {
        var device = T.device(spec.id)
        device.status = spec.status
        device.statusReason = spec.statusReason
        device.connectionState = spec.connected ? .connected : .disconnected
        device.lastActivityTime = spec.connected ? T.t2 : nil
        device.isEdgeDevice = spec.edge
        return device
    }

    /// Every document, devices and modules, in no particular order (the executor sorts).
    static let documents: [QueryDocument] = {
        var documents = specs.reversed().map { spec in
            let identity = IdentityID(device: DeviceID(rawValue: spec.id)!)
            let twin = twin(identity, tags: spec.tags, desired: spec.desired, reported: spec.reported)
            return QueryDocument(identity: identity, json: TwinJSON.serviceTwin(twin, device: device(spec)))
        }
        for entry in modules {
            let module = Module(
                deviceID: DeviceID(rawValue: entry.device)!, id: ModuleID(rawValue: entry.module)!, generationID: "g", etag: "bQ==",
                authentication: .none)
            let twin = twin(module.identity, tags: entry.tags, desired: "{}", reported: entry.reported)
            documents.append(QueryDocument(identity: module.identity, json: TwinJSON.serviceTwin(twin, module: module)))
        }
        return documents
    }()

    /// Runs `text` to the end, page by page, returning every item and the pages' sizes.
    static func run(_ text: String, documents: [QueryDocument] = documents, pageSize: Int? = nil) async throws -> (items: [JSONValue], pages: [Int], type: QueryItemType) {
        let query = try TwinQuery(parsing: text)
        var items: [JSONValue] = []
        var pages: [Int] = []
        var continuation: String?
        var type = QueryItemType.raw
        repeat {
            let page = try await TwinQueryExecutor.execute(query, documents: documents, pageSize: pageSize, continuation: continuation)
            items += page.items
            pages.append(page.items.count)
            continuation = page.continuation
            type = page.itemType
        } while continuation != nil
        return (items, pages, type)
    }

    /// `deviceId` or `deviceId/moduleId` of a twin item.
    static func name(_ item: JSONValue) -> String {
        guard case .object(let object) = item, case .string(let device) = object["deviceId"] else { return "?" }
        if case .string(let module) = object["moduleId"] { return "\(device)/\(module)" }
        return device
    }
}
