import NIOCore
import Synchronization

/// A thread-safe reference to a connection, used by other event loops to reach it: schedule a drain of
/// its session's mailbox, wake it from backpressure, or kick it out.
final class ConnectionHandle: Sendable {
    let eventLoop: any EventLoop
    let channel: any Channel
    let id: UInt64
    private let handler: NIOLoopBound<MQTTConnectionHandler>

    private static let counter = Atomic<UInt64>(0)

    /// Must be called on `handler`'s event loop.
    init(handler: MQTTConnectionHandler, channel: any Channel) {
        let eventLoop = channel.eventLoop
        self.eventLoop = eventLoop
        self.channel = channel
        self.id = Self.counter.wrappingAdd(1, ordering: .relaxed).newValue
        self.handler = NIOLoopBound(handler, eventLoop: eventLoop)
    }

    /// Runs `body` with the handler on its event loop, always asynchronously (so work scheduled from the
    /// connection's own loop is batched after the current read, not run re-entrantly).
    func execute(_ body: @escaping @Sendable (MQTTConnectionHandler) -> Void) {
        eventLoop.execute { body(self.handler.value) }
    }

    /// Runs `body` on the handler's loop and returns its result.
    func submit<T: Sendable>(_ body: @escaping @Sendable (MQTTConnectionHandler) -> T) -> EventLoopFuture<T> {
        eventLoop.submit { body(self.handler.value) }
    }

    /// Schedules a drain of the session mailbox on the connection's loop.
    func scheduleDrain() {
        execute { $0.drain() }
    }
}
