import HubCore
import MQTTBroker
import NIOCore
import Synchronization

/// Calls direct methods on connected devices: publishes `$iothub/methods/POST/{name}/?$rid=` to the
/// device's connection (only when it subscribed to `$iothub/methods/POST/#`, as Azure requires) and
/// waits for the matching `$iothub/methods/res/{status}/?$rid=` from that same identity.
public final class MethodInvoker: Sendable {
    private struct Pending {
        var clientID: String
        var answer: AsyncStream<DirectMethodResponse>.Continuation
    }

    private let pending = Mutex<[String: Pending]>([:])
    private let nextRequestID = Atomic<UInt64>(1)
    private let delivery: @Sendable (ApplicationMessage, String) -> DirectDeliveryResult
    /// At most this many calls wait for answers at once (bounded memory); more get 429.
    public let maximumPending: Int

    /// - Parameter delivery: queues a message for one client if it holds a matching subscription
    ///   (`MQTTBroker.deliver(_:toClient:requiringSubscription: true)`).
    public init(maximumPending: Int = 10_000, delivery: @escaping @Sendable (ApplicationMessage, String) -> DirectDeliveryResult) {
        self.maximumPending = maximumPending
        self.delivery = delivery
    }

    /// Calls `request.methodName` on `identity` and returns its answer.
    public func invoke(_ request: DirectMethodRequest, on identity: IdentityID) async throws(DirectMethodError) -> DirectMethodResponse {
        try request.validate()
        let clientID = identity.description
        let requestID = String(nextRequestID.wrappingAdd(1, ordering: .relaxed).oldValue, radix: 16)
        let (answers, continuation) = AsyncStream<DirectMethodResponse>.makeStream(bufferingPolicy: .bufferingNewest(1))
        // Registered before publishing, so an instant answer cannot be missed.
        let admitted = pending.withLock { table -> Bool in
            guard table.count < maximumPending else { return false }
            table[requestID] = Pending(clientID: clientID, answer: continuation)
            return true
        }
        guard admitted else { throw DirectMethodError(.throttled, "too many direct method calls in flight") }
        defer { pending.withLock { $0.removeValue(forKey: requestID) }?.answer.finish() }

        let message = ApplicationMessage(
            topic: DeviceResponseTopic.methodRequest(name: request.methodName, requestID: requestID),
            payload: ByteBuffer(bytes: request.requestBody), qos: .atMostOnce, retain: false)
        let connectDeadline = ContinuousClock.now + .seconds(request.connectTimeoutSeconds)
        var sent = false
        while !Task.isCancelled {
            if delivery(message, clientID) == .queued {
                sent = true
                break
            }
            guard ContinuousClock.now < connectDeadline else { break }
            try? await Task.sleep(for: .milliseconds(100))
        }
        guard sent else {
            throw DirectMethodError(.deviceNotOnline, "the device is not online or has not subscribed to direct methods")
        }
        let timeout = request.responseTimeoutSeconds
        let response = await withTaskGroup(of: DirectMethodResponse?.self) { group in
            group.addTask {
                for await answer in answers { return answer }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(timeout))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let response else {
            throw DirectMethodError(.timeout, "the device did not answer within \(timeout) s")
        }
        return response
    }

    /// A device's `$iothub/methods/res/{status}/?$rid=` arrived. Answers the waiting call if the
    /// request id is pending for this very client; anything else (late, unknown, another device's id)
    /// is ignored.
    public func responseReceived(clientID: String, requestID: String, status: Int, body: [UInt8]) {
        let waiting = pending.withLock { table -> Pending? in
            guard let entry = table[requestID], entry.clientID == clientID else { return nil }
            table[requestID] = nil
            return entry
        }
        guard let waiting else { return }
        waiting.answer.yield(DirectMethodResponse(status: status, payload: DirectMethodResponse.payload(fromDeviceBody: body)))
        waiting.answer.finish()
    }

    /// Calls waiting for an answer right now.
    public var pendingCount: Int { pending.withLock { $0.count } }
}
