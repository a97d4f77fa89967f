import Hummingbird
import Logging
import NIOCore

/// The request context of the hub's HTTP API.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's address, for logs (nil in router tests).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Bodies are read with `ServiceAPI.Configuration.maximumBodySize`; this only bounds Hummingbird's own
    /// helpers, should anything use them.
    public var maxUploadSize: Int { ServiceAPI.Configuration.defaultMaximumBodySize }
}
