/// The one error type of HubEventLog. Messages are safe to log: paths inside the data directory and
/// errno names, never payloads or property values.
public struct EventLogError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong. A struct over a private enum so codes can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case io, diskFull, corrupt, invalidArgument, closed, behindRetention
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A system call failed (the errno is in the message).
        public static let io = Code(.io)
        /// ENOSPC or EDQUOT: nothing more fits until space is freed.
        public static let diskFull = Code(.diskFull)
        /// Bytes on disk are not a valid record, index or checkpoint file.
        public static let corrupt = Code(.corrupt)
        /// A configuration value, partition number, group name or position is out of range.
        public static let invalidArgument = Code(.invalidArgument)
        /// The log was closed.
        public static let closed = Code(.closed)
        /// The requested offset was deleted by retention.
        public static let behindRetention = Code(.behindRetention)

        public var description: String {
            switch base {
            case .io: "I/O error"
            case .diskFull: "disk full"
            case .corrupt: "corrupt"
            case .invalidArgument: "invalid argument"
            case .closed: "closed"
            case .behindRetention: "behind retention"
            }
        }
    }

    public var code: Code
    /// A safe, human-readable explanation.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "event log \(code): \(message)" }
}
