import Foundation
import HubCore
import HubEventLog
import Synchronization

/// Where the routing table is kept.
public protocol RoutingStore: Sendable {
    /// The stored table, or an empty one (no endpoints, no routes, the default fallback).
    func load() throws(RoutingError) -> RoutingTable
    /// Replaces the stored table durably.
    func save(_ table: RoutingTable) throws(RoutingError)
}

/// The reference store for tests.
public final class InMemoryRoutingStore: RoutingStore {
    private let table: Mutex<RoutingTable>

    public init(_ table: RoutingTable = RoutingTable()) {
        self.table = Mutex(table)
    }

    public func load() throws(RoutingError) -> RoutingTable { table.withLock { $0 } }
    public func save(_ table: RoutingTable) throws(RoutingError) { self.table.withLock { $0 = table } }
}

/// The routing table as one JSON file (`<data-dir>/routing/routing.json`), replaced atomically (temporary
/// file, fsync, rename, directory fsync). Readable and diffable by operators; never holds secrets other
/// than webhook headers, so it is created with mode 0600.
public final class FileRoutingStore: RoutingStore {
    public let path: String
    private let io: any LogFileIO

    public init(path: String, io: any LogFileIO = POSIXLogFileIO()) {
        self.path = path
        self.io = io
    }

    public func load() throws(RoutingError) -> RoutingTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw RoutingError(.storage, "cannot read \(path)") }
            return RoutingTable()
        }
        do {
            return try JSONDecoder().decode(RoutingTable.self, from: data)
        } catch {
            throw RoutingError(.storage, "\(path) is not a routing table: \(error)")
        }
    }

    public func save(_ table: RoutingTable) throws(RoutingError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            let data = try encoder.encode(table)
            try AtomicFile.write(Array(data), to: path, io: io)
        } catch let error as EventLogError {
            throw RoutingError(.storage, "saving the routing table: \(error.message)")
        } catch {
            throw RoutingError(.storage, "saving the routing table: \(error)")
        }
    }
}

/// Each endpoint's position in every partition of the log (the next offset it has not yet delivered),
/// in `<dir>/<endpoint>.json`, replaced atomically after each delivered batch. A position only moves
/// after its endpoint has taken the events before it, so a crash repeats at most one batch (file
/// storage endpoints also check their files on start and repeat none).
public final class EndpointPositions: Sendable {
    public let directory: String
    private let io: any LogFileIO

    public init(directory: String, io: any LogFileIO = POSIXLogFileIO()) {
        self.directory = directory
        self.io = io
    }

    private func path(_ endpoint: String) -> String { "\(directory)/\(endpoint).json" }

    /// partition → next offset; empty when the endpoint has none yet.
    public func load(_ endpoint: String) -> [Int: Int64] {
        PartitionPositions.load(path(endpoint))
    }

    public func save(_ endpoint: String, _ positions: [Int: Int64]) throws(EventLogError) {
        try PartitionPositions.save(positions, to: path(endpoint), io: io)
    }

    public func remove(_ endpoint: String) {
        try? io.remove(path(endpoint))
    }
}
