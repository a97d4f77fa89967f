import ArgumentParser
import Foundation
import HubServer
import Logging

/// `meridian eventlog …`: the event log of a stopped hub, read straight from its data directory.
///
/// These commands take the data directory's lock, as the hub does, because opening the log recovers it
/// (a torn tail is truncated, as at a hub start). While the hub runs they refuse with exit code 75; use
/// the hub's events API to read a running hub.
public struct EventLogCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "eventlog",
        abstract: "Read the event log of a stopped hub from its data directory.",
        subcommands: [Dump.self, Stats.self])

    public init() {}

    struct Dump: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print events as JSON lines, in partition then offset order.",
            discussion: """
                One JSON object per line, the shape every reader of the log sees: deviceId, moduleId, partition, \
                offset, sequenceNumber, enqueuedTime, properties, systemProperties, body and bodyEncoding \
                (json or base64). Exit status: 0; 64 for a bad option (a partition the log does not have); 1 on an \
                error; 75 while the hub (or another tool) uses the \
                data directory.
                """)
        @Option(help: ArgumentHelp("The hub's data directory.", valueName: "dir")) var dataDir: String
        @Option(help: ArgumentHelp("Only this partition (default: all, in order).", valueName: "n")) var partition: Int?
        @Option(help: ArgumentHelp("Start at this offset in each partition dumped (default: the earliest retained).", valueName: "offset"))
        var from: Int64?
        @Option(help: ArgumentHelp("Print at most this many events in all.", valueName: "n")) var limit: Int?

        func validate() throws {
            if let partition, partition < 0 { throw ValidationError("--partition must be 0 or more") }
            if let from, from < 0 { throw ValidationError("--from must be 0 or more") }
            if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
        }

        func run() async throws {
            let log = try EventLogCommand.open(dataDir)
            defer { log.close() }
            if let partition, partition >= log.partitionCount {
                // A usage error, known only once the log says how many partitions it has.
                FileHandle.standardError.write(Data("meridian: no partition \(partition) (the log has \(log.partitionCount): 0…\(log.partitionCount - 1))\n".utf8))
                throw ExitCode(64)
            }
            var output = StandardOutput()
            do {
                try log.dump(
                    partition: partition, from: from, limit: limit, write: { output.write($0) },
                    notice: { FileHandle.standardError.write(Data("meridian: \($0)\n".utf8)) })
            } catch {
                output.flush()
                throw ServeCommand.fail(error)
            }
            output.flush()
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per partition: the earliest and next offsets, events, segment files and bytes.")
        @Option(help: ArgumentHelp("The hub's data directory.", valueName: "dir")) var dataDir: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let log = try EventLogCommand.open(dataDir)
            defer { log.close() }
            let stats: [OfflineEventLog.PartitionStats]
            do {
                stats = try log.stats()
            } catch {
                throw ServeCommand.fail(error)
            }
            if json {
                return Output.json(stats.map {
                    ["partition": $0.partition, "earliest": $0.earliest, "next": $0.next, "events": $0.next - $0.earliest,
                     "segments": $0.segments, "bytes": $0.bytes] as [String: Any]
                })
            }
            Output.table(
                ["PARTITION", "EARLIEST", "NEXT", "EVENTS", "SEGMENTS", "BYTES"],
                stats.map { ["\($0.partition)", "\($0.earliest)", "\($0.next)", "\($0.next - $0.earliest)", "\($0.segments)", "\($0.bytes)"] })
        }
    }

    /// Opens the log, or prints `meridian: <why>` and exits (75 when the data directory is in use).
    static func open(_ dataDirectory: String) throws -> OfflineEventLog {
        var logger = Logger(label: "meridian.eventlog") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = .warning
        do {
            return try OfflineEventLog.open(dataDirectory: dataDirectory, logger: logger)
        } catch {
            throw ServeCommand.fail(error)
        }
    }
}

