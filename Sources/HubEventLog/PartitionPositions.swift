import Foundation
import HubCore

/// A reader's next offset per partition, kept in a small JSON file (`{"0": 42, "1": 17}`) written atomically:
/// the durable position of the hub's own consumers (routing endpoints, the time-series feed).
public enum PartitionPositions {
    /// partition → next offset; empty when the file is missing or unreadable.
    public static func load(_ path: String) -> [Int: Int64] {
        guard let data = FileManager.default.contents(atPath: path), case .object(let object)? = try? JSONParser.parse(Array(data)) else {
            return [:]
        }
        var result: [Int: Int64] = [:]
        for (key, value) in object.members {
            if let partition = Int(key), case .number(let text) = value, let offset = Int64(text) { result[partition] = offset }
        }
        return result
    }

    public static func save(_ positions: [Int: Int64], to path: String, io: any LogFileIO = POSIXLogFileIO()) throws(EventLogError) {
        var object = JSONObject()
        for (partition, offset) in positions.sorted(by: { $0.key < $1.key }) { object[String(partition)] = .number(String(offset)) }
        try AtomicFile.write(JSONWriter.bytes(.object(object)), to: path, io: io)
    }
}
