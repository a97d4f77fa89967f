import Foundation
import HubCore
import HubEventLog
import HubRouting
import HubStreamSQL
import Logging

/// The hub's stream jobs: definitions kept in `<dir>/jobs.json`, each enabled job run by a
/// `StreamJobRunner` while `run()` runs, with its checkpoint and file outputs in `<dir>/<name>/`.
public actor StreamJobs {
    private let log: EventLog
    private let directory: String
    private let actions: JobActions
    private let logger: Logger
    private var definitions: [String: StreamJobDefinition] = [:]

    private struct Running {
        var runner: StreamJobRunner
        var task: Task<Void, Never>
        var memory: [String: MemoryOutputSink]
        var sinks: [any JobOutputSink]
    }

    private var running: [String: Running] = [:]
    /// Status of stopped jobs (their last numbers).
    private var stopped: [String: StreamJobStatus] = [:]
    private var started = false

    /// At most this many jobs (each reads the whole log).
    public static let maxJobs = 50

    public init(log: EventLog, directory: String, actions: JobActions, logger: Logger = Logger(label: "meridian.jobs")) throws(StreamJobError) {
        self.log = log
        self.directory = directory
        self.actions = actions
        self.logger = logger
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StreamJobError(.storage, "cannot create \(directory): \(error.localizedDescription)")
        }
        if let data = FileManager.default.contents(atPath: Self.file(directory)) {
            do {
                for definition in try JSONDecoder().decode([StreamJobDefinition].self, from: data) { definitions[definition.name] = definition }
            } catch {
                throw StreamJobError(.storage, "\(Self.file(directory)) is not a list of jobs: \(error)")
            }
        }
    }

    private static func file(_ directory: String) -> String { "\(directory)/jobs.json" }

    /// Runs the enabled jobs until cancelled; a job that no longer plans (after an upgrade) is logged
    /// and left stopped.
    public func run() async {
        started = true
        for name in definitions.keys.sorted() where definitions[name]?.enabled == true { startRunner(name) }
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(3600)) } catch { break }
        }
        for name in running.keys.sorted() { await stopRunner(name) }
        started = false
    }

    /// Creates or replaces a job (validated first; a replaced running job restarts from its checkpoint).
    @discardableResult
    public func put(_ definition: StreamJobDefinition) async throws(StreamJobError) -> StreamJobDefinition {
        _ = try definition.validated()
        if definitions[definition.name] == nil, definitions.count >= Self.maxJobs {
            throw StreamJobError(.conflict, "at most \(Self.maxJobs) jobs")
        }
        let previous = definitions[definition.name]
        definitions[definition.name] = definition
        do {
            try persist()
        } catch {
            definitions[definition.name] = previous
            throw error
        }
        if started {
            await stopRunner(definition.name)
            if definition.enabled { startRunner(definition.name) }
        }
        return definition
    }

    public func delete(_ name: String) async throws(StreamJobError) {
        guard let previous = definitions.removeValue(forKey: name) else { throw StreamJobError(.notFound, "no job named '\(name)'") }
        do {
            try persist()
        } catch {
            definitions[name] = previous
            throw error
        }
        await stopRunner(name)
        stopped[name] = nil
        try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
    }

    public func setEnabled(_ name: String, _ enabled: Bool) async throws(StreamJobError) -> StreamJobDefinition {
        guard var definition = definitions[name] else { throw StreamJobError(.notFound, "no job named '\(name)'") }
        definition.enabled = enabled
        definitions[name] = definition
        try persist()
        if started {
            if enabled, running[name] == nil { startRunner(name) }
            if !enabled { await stopRunner(name) }
        }
        return definition
    }

    public func definition(_ name: String) -> StreamJobDefinition? { definitions[name] }

    public func list() -> [StreamJobDefinition] { definitions.keys.sorted().compactMap { definitions[$0] } }

    /// A job's status with its lag (events after its positions).
    public func status(_ name: String) -> StreamJobStatus? {
        guard definitions[name] != nil else { return nil }
        guard var status = running[name]?.runner.status.withLock({ $0 }) else { return stopped[name] ?? StreamJobStatus() }
        status.lag = 0
        for partition in 0..<log.partitionCount {
            guard let bounds = try? log.bounds(partition: partition) else { continue }
            status.lag += max(0, bounds.next - max(status.positions[partition] ?? bounds.next, bounds.earliest))
        }
        return status
    }

    /// The last rows of a `memory` target.
    public func recentRows(_ name: String, target: String) throws(StreamJobError) -> [SQLOutputRow] {
        guard definitions[name] != nil else { throw StreamJobError(.notFound, "no job named '\(name)'") }
        guard let sink = running[name]?.memory[target.lowercased()] else { return [] }
        return sink.recent
    }

    // MARK: runners

    private func persist() throws(StreamJobError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            let data = try encoder.encode(definitions.keys.sorted().compactMap { definitions[$0] })
            try AtomicFile.write(Array(data), to: Self.file(directory), io: POSIXLogFileIO())
        } catch {
            throw StreamJobError(.storage, "saving the jobs failed: \(error)")
        }
    }

    private func startRunner(_ name: String) {
        guard let definition = definitions[name], running[name] == nil else { return }
        let plan: SQLPlan
        do {
            plan = try definition.validated()
        } catch {
            logger.error("stream job \(name) cannot start: \(error.message)")
            return
        }
        let jobDirectory = "\(directory)/\(name)"
        try? FileManager.default.createDirectory(atPath: jobDirectory, withIntermediateDirectories: true)
        var sinks: [String: any JobOutputSink] = [:]
        var memory: [String: MemoryOutputSink] = [:]
        var skipped: (@Sendable (String) -> Void)?
        let reporter = SkipReporter()
        skipped = { message in reporter.report(message) }
        for target in plan.outputs {
            let output = definition.output(target)
            let key = target.lowercased()
            switch output.type {
            case .alarm: sinks[key] = AlarmOutputSink(job: name, target: target, output: output, actions: actions, skipped: skipped!)
            case .webhook: sinks[key] = WebhookOutputSink(job: name, target: target, output: output)
            case .fileStorage:
                let root = output.directory.map { $0.hasPrefix("/") ? $0 : "\(jobDirectory)/\($0)" } ?? "\(jobDirectory)/\(target)"
                sinks[key] = FileOutputSink(sink: FileStorageSink(root: root))
            case .c2d, .method: sinks[key] = DeviceActionSink(job: name, target: target, output: output, actions: actions, skipped: skipped!)
            case .eventLog: sinks[key] = EventLogOutputSink(job: name, target: target, actions: actions)
            case .timeSeries: sinks[key] = TimeSeriesOutputSink(target: target, output: output, actions: actions, skipped: skipped!)
            case .memory:
                let sink = MemoryOutputSink()
                memory[key] = sink
                sinks[key] = sink
            }
        }
        let runner = StreamJobRunner(definition: definition, plan: plan, log: log, directory: jobDirectory, sinks: sinks, actions: actions, logger: logger)
        reporter.runner = runner
        let task = Task { await runner.run() }
        running[name] = Running(runner: runner, task: task, memory: memory, sinks: Array(sinks.values))
        stopped[name] = nil
        logger.info("stream job \(name) started")
    }

    private func stopRunner(_ name: String) async {
        guard let entry = running.removeValue(forKey: name) else { return }
        entry.task.cancel()
        await entry.task.value
        for sink in entry.sinks { await sink.close() }
        var status = entry.runner.status.withLock { $0 }
        status.state = .stopped
        stopped[name] = status
        logger.info("stream job \(name) stopped")
    }
}

/// Passes skipped-row reports to the runner created after the sinks.
private final class SkipReporter: @unchecked Sendable {
    // Set once before the runner starts, read afterwards only.
    var runner: StreamJobRunner?
    func report(_ message: String) { runner?.skipped(message) }
}
