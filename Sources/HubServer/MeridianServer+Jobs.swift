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
/// `$metadata`), rebuilt within `interval` of any twin change (the twin service's change count), so a
/// `JOIN twins t` sees current tags and properties without an export step. At most `limit` twins.
final class TwinsReference: Sendable {
    private let state = Mutex<SQLReferenceTable?>(nil)
    private let twins: TwinService
    private let limit: Int
    private let logger: Logger

    init(twins: TwinService, limit: Int = 200_000, logger: Logger) {
        self.twins = twins
        self.limit = limit
        self.logger = logger
    }

    var table: SQLReferenceTable? { state.withLock { $0 } }

    func run(every interval: Duration = .milliseconds(250)) async {
        var loaded: UInt64?
        while !Task.isCancelled {
            let count = twins.changeCount
            if loaded != count {
                do {
                    let rows = try await load()
                    state.withLock { $0 = SQLReferenceTable(rows: rows, version: count &+ 1) }
                    loaded = count
                } catch {
                    logger.error("stream jobs: reading the twins failed: \(error)")
                }
            }
            try? await Task.sleep(for: interval)
        }
    }

    private func load() async throws -> [SQLValue] {
        var rows: [SQLValue] = []
        var after: IdentityID?
        while rows.count < limit {
            let page = try await twins.scan(after: after, limit: 1000)
            for twin in page {
                var object = JSONObject()
                object["deviceId"] = .string(twin.deviceID.rawValue)
                object["modelId"] = .string(twin.modelID)
                object["version"] = .number(String(twin.version))
                object["tags"] = .object(twin.tags)
                object["properties"] = .object(JSONObject([
                    "desired": TwinJSON.section(twin.desired, metadata: false),
                    "reported": TwinJSON.section(twin.reported, metadata: false),
                ]))
                rows.append(SQLValue(json: .object(object)))
            }
            guard page.count == 1000, let last = page.last else { break }
            after = last.identity
        }
        return rows
    }
}
