/// The one error type of HubServer: why `meridian serve` could not start or keep running.
///
/// `message` is a single line meant for stderr (`meridian: <message>`). It names files, keys, hosts and
/// ports, never key material, passwords or configuration values that could be secrets.
public struct HubServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case invalidConfiguration, tlsMaterial, cannotListen, storage, dataDirectory, dataDirectoryInUse
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A flag, the config file or their combination is invalid.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// A certificate or key cannot be read, parsed, matched or created.
        public static let tlsMaterial = Code(.tlsMaterial)
        /// A listener cannot be bound (address in use, permission denied, no such address).
        public static let cannotListen = Code(.cannotListen)
        /// The database cannot be opened or used.
        public static let storage = Code(.storage)
        /// The data directory cannot be created or used.
        public static let dataDirectory = Code(.dataDirectory)
        /// Another process (a hub, or an offline tool such as `meridian eventlog dump`) holds the data
        /// directory's lock (`DataDirectoryLock`).
        public static let dataDirectoryInUse = Code(.dataDirectoryInUse)

        public var description: String {
            switch base {
            case .invalidConfiguration: "invalid configuration"
            case .tlsMaterial: "TLS material"
            case .cannotListen: "cannot listen"
            case .storage: "storage"
            case .dataDirectory: "data directory"
            case .dataDirectoryInUse: "data directory in use"
            }
        }
    }

    public var code: Code
    /// One line, safe to print and log.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
