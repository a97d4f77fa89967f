import HubCore

/// Device and module twins, one per identity. Backends: in-memory (tests, reference), SQLite
/// (embedded), later PostgreSQL; every backend passes `TwinStoreConformance` (HubTestKit).
///
/// Dumb on purpose, like `RegistryStore`: merge rules, versions and etag minting live in HubTwins; the
/// store guarantees atomic compare-and-swap on the twin etag, byte-exact identifiers and values, and
/// a stable scan order for queries.
public protocol TwinStore: Sendable {
    /// The twin of a device (`identity.module == nil`) or module; nil when none is stored.
    func twin(_ identity: IdentityID) async throws(StorageError) -> Twin?
    /// Stores a new twin. `.duplicate` when the identity already has one.
    func insertTwin(_ twin: Twin) async throws(StorageError)
    /// Replaces the identity's twin, atomically, if its stored etag equals `expectedEtag` (`nil` =
    /// unconditionally). `.notFound` if absent, `.conflict` on an etag mismatch.
    func replaceTwin(_ twin: Twin, expectedEtag: String?) async throws(StorageError)
    /// Deletes the twin of `identity`; for a device also the twins of all its modules. Returns how many
    /// twins were deleted. Deleting nothing is not an error: twins are created on first use, so an
    /// identity may never have had one.
    func deleteTwins(of identity: IdentityID) async throws(StorageError) -> Int
    /// Twins in identity order — device id, then module id, byte order, each device's own twin before
    /// its modules' — starting strictly after `after`, at most `limit`, of the identities `scope`
    /// selects. The cursor need not exist any more.
    func twins(after: IdentityID?, limit: Int, scope: TwinScope) async throws(StorageError) -> [Twin]
}

/// Which twins a scan returns: the query language's `FROM devices` or `FROM devices.modules`.
public enum TwinScope: Sendable, Hashable {
    /// Device twins only.
    case devices
    /// Module twins only.
    case modules
    /// Both.
    case all

    /// Whether the twin of `identity` belongs to the scope.
    public func contains(_ identity: IdentityID) -> Bool {
        switch self {
        case .devices: identity.module == nil
        case .modules: identity.module != nil
        case .all: true
        }
    }
}

/// The order twins are scanned in, as a comparable key: device id bytes, then module id bytes with a
/// device's own twin (no module) first. Module ids are never empty, so the empty module key is the
/// device's.
public struct TwinOrderKey: Hashable, Comparable, Sendable {
    package let device: ExactKey
    package let module: ExactKey

    public init(_ identity: IdentityID) {
        device = ExactKey(identity.device.rawValue)
        module = ExactKey(identity.module?.rawValue ?? "")
    }

    public static func < (lhs: TwinOrderKey, rhs: TwinOrderKey) -> Bool {
        lhs.device == rhs.device ? lhs.module < rhs.module : lhs.device < rhs.device
    }
}
