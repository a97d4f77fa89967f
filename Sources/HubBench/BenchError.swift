/// What can go wrong in a benchmark run. Messages name options and counts, never credentials.
public struct BenchError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure, for callers that react to it (the CLI maps `.invalidOption` to a usage error).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case invalidOption, connectFailed, timedOut, setup
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A setting is out of range or contradicts another one.
        public static let invalidOption = Code(.invalidOption)
        /// No publisher could connect (or too few to run).
        public static let connectFailed = Code(.connectFailed)
        /// A phase of the run did not finish within its bound.
        public static let timedOut = Code(.timedOut)
        /// Preparing the run failed (TLS material, event loops).
        public static let setup = Code(.setup)

        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func invalid(_ message: String) -> BenchError { BenchError(.invalidOption, message) }
}
