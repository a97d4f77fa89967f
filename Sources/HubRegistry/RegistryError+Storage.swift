import HubStorage

extension RegistryError {
    /// Shorthands for the codes the registry raises most.
    static func deviceNotFound(_ id: some CustomStringConvertible) -> RegistryError {
        RegistryError(.deviceNotFound, "device \(id) not found")
    }

    static func preconditionFailed() -> RegistryError {
        RegistryError(.preconditionFailed, "the If-Match etag does not match the current version")
    }

    static func invalid(_ message: String) -> RegistryError { RegistryError(.invalidArgument, message) }

    /// The registry error for a storage failure: `.notFound` and `.duplicate` become the caller's
    /// codes, `.conflict` (a stale etag) `.preconditionFailed`, a full or busy store `.unavailable`
    /// (retry later), damaged data `.serverError`. The storage message (which may name SQL tables) is
    /// never passed on; callers log it.
    init(_ error: StorageError, notFound: RegistryError, duplicate: RegistryError? = nil) {
        switch error.code {
        case .notFound:
            self = notFound
        case .duplicate:
            self = duplicate ?? RegistryError(.invalidArgument, "the record already exists")
        case .conflict:
            self = .preconditionFailed()
        case .diskFull:
            self = RegistryError(.unavailable, "the registry's storage is full; retry after space is freed")
        case .corrupt, .insecure:
            self = RegistryError(.serverError, "stored registry data cannot be read")
        default:
            self = RegistryError(.unavailable, "the registry's storage is unavailable; retry later")
        }
    }
}
