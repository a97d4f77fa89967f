/// Why a connection string was refused. The message names a key, never a value (values include keys
/// and signatures).
public struct ConnectionStringError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
