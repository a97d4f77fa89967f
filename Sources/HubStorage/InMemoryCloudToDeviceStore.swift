import HubCore
import Synchronization

/// `CloudToDeviceStore` in memory (reference implementation, unit tests): kept only while the process
/// runs.
public final class InMemoryCloudToDeviceStore: CloudToDeviceStore {
    private struct Contents {
        var messages: [Int64: CloudToDeviceEntry] = [:]
        var feedback: [Int64: CloudToDeviceFeedback] = [:]
        var counters = CloudToDeviceCounters()
    }
    private let contents = Mutex(Contents())

    /// An empty store.
    public init() {}

    public func load() async throws(StorageError) -> CloudToDeviceSnapshot {
        contents.withLock { c in
            CloudToDeviceSnapshot(
                messages: c.messages.keys.sorted().map { c.messages[$0]! },
                feedback: c.feedback.keys.sorted().map { c.feedback[$0]! },
                counters: c.counters)
        }
    }

    public func apply(_ changes: [CloudToDeviceChange]) async throws(StorageError) {
        contents.withLock { c in
            for change in changes {
                switch change {
                case .saveMessage(let entry): c.messages[entry.sequenceNumber] = entry
                case .removeMessage(let sequenceNumber): c.messages[sequenceNumber] = nil
                case .saveFeedback(let record): c.feedback[record.id] = record
                case .removeFeedback(let id): c.feedback[id] = nil
                case .setCounters(let counters): c.counters = counters
                }
            }
        }
    }
}
