import HubCore
import HubEventLog
import HubMessaging
import Synchronization

/// An internal queue endpoint: an event log of its own (one partition) under the data directory, so
/// routed messages can be read like the built-in endpoint — from a position, with consumer groups —
/// by internal consumers (stream jobs) and by `GET /routing/queues/{name}/events`. Enrichments become
/// application properties. `deliver` returns once the queue's batch is written.
public final class QueueSink: EndpointSink {
    public let log: EventLog
    /// The queue's consumer groups (`$Default`), for readers that keep checkpoints.
    public let groups: ConsumerGroups

    public init(directory: String, configuration: EventLog.Configuration) throws {
        var settings = configuration
        settings.partitionCount = 1
        log = try EventLog(directory: directory, configuration: settings)
        do {
            groups = try ConsumerGroups(log: log)
        } catch {
            log.close()
            throw error
        }
    }

    public func recoveredPositions(partitions: Int) async throws -> [Int: Int64] { [:] }

    public func deliver(_ records: [RoutedRecord], partition: Int) async throws {
        guard !records.isEmpty else { return }
        let outcome = Mutex<(remaining: Int, error: TelemetrySinkError?)>((records.count, nil))
        let log = self.log
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            // Appends are queued in this order on the queue's one partition, so order is kept.
            for record in records {
                log.append(record.enrichedMessage, partitionKey: record.event.partitionKey) { result in
                    let done: (Bool, TelemetrySinkError?) = outcome.withLock { state in
                        if case .failure(let error) = result, state.error == nil { state.error = error }
                        state.remaining -= 1
                        return (state.remaining == 0, state.error)
                    }
                    guard done.0 else { return }
                    if let error = done.1 {
                        continuation.resume(throwing: EndpointDeliveryError("queue: \(error)"))
                    } else {
                        continuation.resume()
                    }
                }
            }
        }
    }

    public func close() async {
        log.close()
    }
}
