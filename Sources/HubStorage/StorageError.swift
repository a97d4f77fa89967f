/// The one error type of every storage backend (SQLite, PostgreSQL, in-memory).
///
/// Backends map their driver's errors onto a small set of codes that callers can act on
/// (`.diskFull` → stop acknowledging and report not-ready; `.duplicate` → HTTP 409 …). The
/// `message` is safe to log and to show: it never contains payloads, keys, tokens or SQL argument
/// values, only what went wrong and where.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. A struct over a private enum, so codes can be added without
    /// breaking exhaustive `switch`es in callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case notFound, conflict, duplicate, unavailable, diskFull, corrupt, insecure
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The record does not exist.
        public static let notFound = Code(.notFound)
        /// The write contradicts stored state (a constraint other than uniqueness, a stale version).
        public static let conflict = Code(.conflict)
        /// A record with the same unique key already exists.
        public static let duplicate = Code(.duplicate)
        /// The store cannot be reached or used right now (busy past the timeout, I/O error, closed,
        /// read-only, cannot open). Retrying later may succeed.
        public static let unavailable = Code(.unavailable)
        /// The disk (or the database's size limit) is full: nothing more can be written until space is
        /// freed. Reads still work.
        public static let diskFull = Code(.diskFull)
        /// Stored data is damaged or not what this version of Meridian wrote.
        public static let corrupt = Code(.corrupt)
        /// A file holding secrets (the master key) is readable or writable by other users, so the hub
        /// refuses to use it until its permissions are fixed (reliability plan S10).
        public static let insecure = Code(.insecure)

        public var description: String {
            switch base {
            case .notFound: "not found"
            case .conflict: "conflict"
            case .duplicate: "duplicate"
            case .unavailable: "unavailable"
            case .diskFull: "disk full"
            case .corrupt: "corrupt"
            case .insecure: "insecure"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A safe, human-readable explanation (no payloads, keys or argument values).
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "storage \(code): \(message)" }
}
