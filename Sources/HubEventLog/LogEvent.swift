import HubCore

/// One stored event: a device message plus where and when the log stored it.
public struct LogEvent: Hashable, Sendable {
    /// The record's position in its partition: 0, 1, 2 … without gaps. Segments are named by the offset
    /// of their first record, and read positions are offsets.
    public var offset: Int64
    /// The partition's sequence number for the event. Today it equals `offset`; it is stored on its own
    /// so the record format does not tie the two together (Event Hubs' offsets are byte positions).
    public var sequenceNumber: Int64
    /// When the log accepted the event. Non-decreasing within a partition (see `EventLog`), which is what
    /// makes seeking by time a binary search.
    public var enqueuedTime: Timestamp
    /// The key the partition was chosen by (the device id, or `device/module`).
    public var partitionKey: String
    /// The message, with `enqueuedTime` and `sequenceNumber` set to the values above.
    public var message: DeviceMessage

    public init(offset: Int64, sequenceNumber: Int64, enqueuedTime: Timestamp, partitionKey: String, message: DeviceMessage) {
        self.offset = offset
        self.sequenceNumber = sequenceNumber
        self.enqueuedTime = enqueuedTime
        self.partitionKey = partitionKey
        self.message = message
    }
}
