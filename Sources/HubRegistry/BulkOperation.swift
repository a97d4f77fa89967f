import HubCore

/// One entry of `POST /devices` (Azure's `ExportImportDevice`), reduced to what the registry acts on.
public struct BulkOperation: Sendable, Hashable {
    /// Azure's `importMode`.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        case create, update, updateIfMatchETag, delete, deleteIfMatchETag, updateTwin, updateTwinIfMatchETag
    }
    public var mode: Mode
    public var device: DeviceWrite
    /// `eTag` of the entry, used by the `…IfMatchETag` modes.
    public var etag: String?

    public init(mode: Mode, device: DeviceWrite, etag: String? = nil) {
        self.mode = mode
        self.device = device
        self.etag = etag
    }
}

/// Azure's `BulkRegistryOperationResult`.
public struct BulkResult: Sendable, Hashable {
    public struct Failure: Sendable, Hashable {
        public var deviceID: String
        public var operation: BulkOperation.Mode
        public var error: RegistryError

        public init(deviceID: String, operation: BulkOperation.Mode, error: RegistryError) {
            self.deviceID = deviceID
            self.operation = operation
            self.error = error
        }
    }
    /// True when every entry succeeded (HTTP 200; otherwise 400 with the same body).
    public var isSuccessful: Bool { errors.isEmpty }
    public var errors: [Failure]

    public init(errors: [Failure]) {
        self.errors = errors
    }
}
