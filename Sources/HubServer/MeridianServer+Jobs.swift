import Foundation
import HubCore
import HubDevices
import HubEventLog
import HubMessaging
import HubRegistry
import HubStorage
import HubStreamJobs
import HubTimeSeries
import HubStreamSQL
import HubTwins
import Logging
import Synchronization

extension MeridianServer {
    /// Stream jobs over the event log, in `<data-dir>/jobs`, with the hub's alarms, cloud-to-device
    /// queue, direct methods and live twins as their actions and reference data.
    func openJobs(
        log: EventLog, registry: DeviceRegistry, twins: TwinService, devices: DeviceProtocol, cloudToDevice: CloudToDeviceService,
        alarms: any AlarmStore, twinsReference: TwinsReference, timeSeries: TimeSeriesStore
    ) throws(HubServerError) -> StreamJobs {
        var actions = JobActions(
            raiseAlarm: { raise in
                do throws(StorageError) {
                    _ = try await alarms.raise(raise)
                } catch {
                    // A row that cannot be stored as an alarm (details nested too deeply): retrying will not help.
                    guard error.code == .conflict else { throw error }
                    throw JobActionError("alarm not stored: \(error.message)")
                }
            },
            sendCloudToDevice: { device, body, properties in
                guard let id = DeviceID(rawValue: device) else { throw JobActionError("'\(device)' is not a device id") }
                let identity: Device
                do {
                    identity = try await registry.device(id)
                } catch {
                    throw JobActionError("no device '\(device)'")
                }
                var message = DeviceMessage(body: body, contentType: "application/json", contentEncoding: "utf-8")
                message.applicationProperties = properties.map { .init($0.0, $0.1) }
                _ = try await cloudToDevice.enqueue(message, to: id, deviceGenerationID: identity.generationID)
            },
            invokeMethod: { device, method, payload, timeout in
                guard let id = DeviceID(rawValue: device) else { throw JobActionError("'\(device)' is not a device id") }
                let request = DirectMethodRequest(methodName: method, payload: payload, responseTimeoutSeconds: max(5, timeout), connectTimeoutSeconds: 0)
                do throws(DirectMethodError) {
                    return try await devices.methods.invoke(request, on: IdentityID(device: id)).status
                } catch {
                    // Offline or refused: retrying the same row will not help; a timeout or throttling might.
                    guard error.code == .deviceNotOnline || error.code == .invalid || error.code == .payloadTooLarge else { throw error }
                    throw JobActionError("method \(method) on \(device): \(error.message)")
                }
            },
            twins: { twinsReference.table },
            append: { message, key in
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    log.append(message, partitionKey: key) { result in continuation.resume(with: result.mapError { $0 as any Error }) }
                }
            })
        actions.writePoints = { points in try Self.write(points, to: timeSeries) }
        actions.raiseAlarms = { raises in
            do throws(StorageError) {
                _ = try await alarms.raise(raises)
            } catch {
                guard error.code == .conflict else { throw error }
                throw JobActionError("alarms not stored: \(error.message)")
            }
        }
        do throws(StreamJobError) {
            return try StreamJobs(log: log, directory: configuration.dataDirectory + "/jobs", actions: actions, logger: logger)
        } catch {
            throw HubServerError(.storage, "cannot open the stream jobs: \(error.message)")
        }
    }
}

extension MeridianServer {
    /// A `timeSeries` job output's rows, durable in the store before the job reads on.
    static func write(_ points: [JobPoint], to store: TimeSeriesStore) throws {
        var batch = PointBatch(capacity: points.count * 4)
        for point in points {
            for measure in point.measures {
                let id = try store.seriesID(device: point.device, measure: measure.name)
                // A job's numbers never go into a string series of the same name (the store would refuse the batch).
                guard store.type(of: id) != .string else { continue }
                batch.append(id, time: point.time, value: measure.value)
            }
        }
        _ = try store.append(batch)
        try store.sync()
    }
}

/// The live twins as the reference table `twins` of stream jobs: one row per device twin
/// (`deviceId`, `modelId`, `version`, `tags`, `properties.desired`, `properties.reported`, without
/// `$metadata`), so a `JOIN twins t` sees current tags and properties without an export step. At most
/// `limit` twins.
///
/// Loaded whole once, then kept current incrementally: the twin service reports every changed identity,
/// and each round (`interval`, 250 ms) re-reads only those twins and publishes a new table version. (Reloading
/// every twin on every change cost a quarter of a core with 10,000 drones reporting their mode.) A full
/// reload every `fullReloadInterval` (5 min), or when more identities changed than it is worth reading one
/// by one, catches anything the change reports could miss (twins created with their devices).
final class TwinsReference: Sendable {
    private struct State {
        var table: SQLReferenceTable?
        var rows: [DeviceID: SQLValue] = [:]
        var dirty = Set<DeviceID>()
        var overflow = false
    }

    private let state = Mutex(State())
    private let twins: TwinService
    private let limit: Int
    private let logger: Logger
    /// Changed twins read one by one per round at most; more trigger a full reload.
    static let maximumIncremental = 5_000

    init(twins: TwinService, limit: Int = 200_000, logger: Logger) {
        self.twins = twins
        self.limit = limit
        self.logger = logger
        twins.addChangeObserver { [weak self] identity in self?.noteChange(identity) }
    }

    private func noteChange(_ identity: IdentityID) {
        guard identity.module == nil else { return }
        state.withLock { s in
            guard !s.overflow else { return }
            s.dirty.insert(identity.device)
            if s.dirty.count > Self.maximumIncremental {
                s.overflow = true
                s.dirty = []
            }
        }
    }

    var table: SQLReferenceTable? { state.withLock { $0.table } }

    func run(every interval: Duration = .milliseconds(250), fullReloadInterval: Duration = .seconds(300)) async {
        var version: UInt64 = 0
        var lastFull: ContinuousClock.Instant?
        while !Task.isCancelled {
            do {
                let (dirty, overflow) = state.withLock { s in
                    let taken = (s.dirty, s.overflow)
                    s.dirty = []
                    s.overflow = false
                    return taken
                }
                let due = lastFull.map { ContinuousClock.now - $0 >= fullReloadInterval } ?? true
                if due || overflow {
                    let rows = try await loadAll()
                    version &+= 1
                    state.withLock { s in
                        s.rows = rows
                        s.table = SQLReferenceTable(rows: Array(rows.values), version: version)
                    }
                    lastFull = .now
                } else if !dirty.isEmpty {
                    let updates = try await read(dirty)
                    version &+= 1
                    state.withLock { s in
                        for (device, row) in updates {
                            if let row, s.rows[device] != nil || s.rows.count < limit { s.rows[device] = row } else { s.rows[device] = nil }
                        }
                        s.table = SQLReferenceTable(rows: Array(s.rows.values), version: version)
                    }
                }
            } catch {
                logger.error("stream jobs: reading the twins failed: \(error)")
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// The current rows of `devices` (nil: the twin is gone).
    private func read(_ devices: Set<DeviceID>) async throws(TwinError) -> [(DeviceID, SQLValue?)] {
        var updates: [(DeviceID, SQLValue?)] = []
        updates.reserveCapacity(devices.count)
        for device in devices { updates.append((device, try await currentRow(device))) }
        return updates
    }

    private func currentRow(_ device: DeviceID) async throws(TwinError) -> SQLValue? {
        do {
            return Self.row(try await twins.twin(of: IdentityID(device: device)))
        } catch where error.code == .notFound {
            return nil
        }
    }

    private func loadAll() async throws -> [DeviceID: SQLValue] {
        var rows: [DeviceID: SQLValue] = [:]
        var after: IdentityID?
        while rows.count < limit {
            let page = try await twins.scan(after: after, limit: 1000)
            for twin in page { rows[twin.deviceID] = Self.row(twin) }
            guard page.count == 1000, let last = page.last else { break }
            after = last.identity
        }
        return rows
    }

    private static func row(_ twin: Twin) -> SQLValue {
        var object = JSONObject()
        object["deviceId"] = .string(twin.deviceID.rawValue)
        object["modelId"] = .string(twin.modelID)
        object["version"] = .number(String(twin.version))
        object["tags"] = .object(twin.tags)
        object["properties"] = .object(JSONObject([
            "desired": TwinJSON.section(twin.desired, metadata: false),
            "reported": TwinJSON.section(twin.reported, metadata: false),
        ]))
        return SQLValue(json: .object(object))
    }
}
