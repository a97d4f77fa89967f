import HubCore
import HubMessaging
import Logging
import MQTTBroker
import NIOCore
import Synchronization

/// Delivers queued cloud-to-device messages to connected devices over MQTT (protocol reference §2.4):
/// at QoS 1 on `devices/{id}/messages/devicebound/{bag}`, only once the device holds a matching
/// subscription (kept across reconnects by its persistent session), at most `maximumInFlight` per
/// device; the device's PUBACK completes the message. A message whose PUBACK never comes returns to
/// the queue when its lock runs out and is delivered again (at least once).
///
/// Attempts are triggered by the queue (a message became ready), by the device connecting or
/// subscribing, and by a periodic sweep over devices with messages (a safety net for missed triggers).
final class CloudToDeviceDispatcher: Sendable {
    private struct InFlight {
        var device: DeviceID
        var lockToken: String
        var sentAt: ContinuousClock.Instant
    }

    /// Work for the dispatcher's loop.
    private enum Event: Sendable {
        case attempt(DeviceID)
        case acknowledged(UInt64)
    }

    private struct State {
        var byTag: [UInt64: InFlight] = [:]
        var countByDevice: [DeviceID: Int] = [:]
        var nextTag: UInt64 = 1
    }

    let service: CloudToDeviceService
    private let link: DeviceProtocol.BrokerLink
    private let logger: Logger
    let maximumInFlight: Int
    private let state = Mutex(State())
    private let events: AsyncStream<Event>
    private let eventInput: AsyncStream<Event>.Continuation

    init(service: CloudToDeviceService, link: DeviceProtocol.BrokerLink, logger: Logger, maximumInFlight: Int = 10) {
        self.service = service
        self.link = link
        self.logger = logger
        self.maximumInFlight = maximumInFlight
        // Bounded: an event dropped when it is full is made up for by the periodic sweep (a lost
        // acknowledgement by the lock running out).
        (events, eventInput) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingOldest(100_000))
        let input = eventInput
        service.addReadyHandler { device in input.yield(.attempt(device)) }
    }

    /// Asks for a delivery attempt for `device` (cheap; callable from event loops).
    func poke(_ device: DeviceID) {
        eventInput.yield(.attempt(device))
    }

    /// The client acknowledged the message queued with `tag` (called on its event loop).
    func acknowledge(_ tag: UInt64) {
        eventInput.yield(.acknowledged(tag))
    }

    /// Processes attempts, and sweeps devices with messages every `sweepInterval`, until cancelled.
    func run(sweepInterval: Duration = .seconds(2)) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in self.events {
                    switch event {
                    case .attempt(let device): await self.attempt(device)
                    case .acknowledged(let tag): await self.acknowledged(tag)
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: sweepInterval)
                    self.pruneAbandoned()
                    for device in await self.service.devicesWithMessages() { self.poke(device) }
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    func finish() {
        eventInput.finish()
    }

    /// Forgets deliveries sent more than 10 minutes ago and never acknowledged: their locks (60 s by
    /// default, at most a few minutes) ran out long ago and the messages were queued again.
    private func pruneAbandoned() {
        let cutoff = ContinuousClock.now - .seconds(600)
        state.withLock { s in
            for (tag, entry) in s.byTag where entry.sentAt < cutoff {
                s.byTag[tag] = nil
            }
        }
    }

    /// Delivers what fits in `device`'s free in-flight slots, if it is connected and subscribed.
    private func attempt(_ device: DeviceID) async {
        guard let broker = link.value else { return }
        let clientID = device.rawValue
        let probe = "devices/\(device.rawValue)/messages/devicebound/x"
        guard broker.isSubscribed(clientID: clientID, to: probe) else { return }
        let free = maximumInFlight - state.withLock { $0.countByDevice[device, default: 0] }
        guard free > 0 else { return }
        let deliveries: [CloudToDeviceDelivery]
        do {
            deliveries = try await service.deliver(device, limit: free)
        } catch {
            logger.warning("cloud-to-device delivery failed", metadata: ["device": "\(device)", "error": "\(error)"])
            return
        }
        for delivery in deliveries {
            let tag = state.withLock { s -> UInt64 in
                defer { s.nextTag &+= 1 }
                s.byTag[s.nextTag] = InFlight(device: device, lockToken: delivery.lockToken, sentAt: .now)
                s.countByDevice[device, default: 0] += 1
                return s.nextTag
            }
            let message = ApplicationMessage(
                topic: CloudToDeviceTopic.topic(for: device, message: delivery.message),
                payload: ByteBuffer(bytes: delivery.message.body), qos: .atLeastOnce, retain: false, deliveryTag: tag)
            if broker.deliver(message, toClient: clientID, requiringSubscription: true) != .queued {
                // Gone since the check: the lock runs out and the message is delivered again later.
                forget(tag)
            }
        }
    }

    /// Completes the message queued with `tag`.
    private func acknowledged(_ tag: UInt64) async {
        guard let inFlight = forget(tag) else { return }
        do {
            try await service.complete(inFlight.device, lockToken: inFlight.lockToken)
        } catch {
            // Lock lost (the PUBACK came after the lock ran out): the message was queued again and will
            // be delivered once more.
            logger.debug("cloud-to-device completion refused", metadata: ["device": "\(inFlight.device)", "error": "\(error)"])
        }
        poke(inFlight.device)
    }

    /// A device's connection ended: its deliveries no longer count against its slots (their locks run
    /// out, or the persistent session redelivers them and their PUBACKs still complete them).
    func disconnected(_ device: DeviceID) {
        state.withLock { $0.countByDevice[device] = nil }
    }

    @discardableResult
    private func forget(_ tag: UInt64) -> InFlight? {
        state.withLock { s in
            guard let entry = s.byTag.removeValue(forKey: tag) else { return nil }
            if let count = s.countByDevice[entry.device] {
                s.countByDevice[entry.device] = count > 1 ? count - 1 : nil
            }
            return entry
        }
    }
}
