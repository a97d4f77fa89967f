import HubCore
import HubEventLog

/// One routed event ready for an endpoint: the event and its JSON record (the events API's shape, with
/// the endpoint's enrichments among `properties`).
public struct RoutedRecord: Sendable {
    public var event: LogEvent
    public var partition: Int
    /// The enrichments stamped for this endpoint, in the table's order.
    public var enrichments: [(String, String)]

    public init(event: LogEvent, partition: Int, enrichments: [(String, String)]) {
        self.event = event
        self.partition = partition
        self.enrichments = enrichments
    }

    /// The record as one line of compact JSON (no newline).
    public var json: [UInt8] {
        var object = event.jsonObject(partition: partition)
        if !enrichments.isEmpty, case .object(var properties)? = object["properties"] {
            for (key, value) in enrichments { properties[key] = .string(value) }
            object["properties"] = .object(properties)
        }
        return JSONWriter.bytes(.object(object))
    }

    /// The event's message with the enrichments appended to its application properties (for queues).
    public var enrichedMessage: DeviceMessage {
        var message = event.message
        for (key, value) in enrichments {
            message.applicationProperties.removeAll { $0.name == key }
            message.applicationProperties.append(.init(key, value))
        }
        return message
    }
}

/// Where an endpoint's records go. `deliver` returns only once the records are taken for good (written
/// and synced, or acknowledged with a 2xx); a throw means none of them may be counted as delivered, and
/// the dispatcher retries the same records.
public protocol EndpointSink: Sendable {
    /// Partition → next offset the sink itself knows it holds (file storage reads its newest files), to
    /// resume exactly where it stopped; empty when it cannot tell.
    func recoveredPositions(partitions: Int) async throws -> [Int: Int64]
    /// Takes `records` (one partition's, in offset order).
    func deliver(_ records: [RoutedRecord], partition: Int) async throws
    /// Releases files and connections.
    func close() async
}

/// A delivery failure, safe to log (no payloads, no header values).
public struct EndpointDeliveryError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
