import ArgumentParser
import Foundation
import HubCore
import HubSimulator
import NIOSSL

/// `meridian simulate`: the Drone Delivery fleet as real devices of a hub.
public struct SimulateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Fly a simulated drone-delivery fleet against a hub (each drone a real MQTT device).",
        discussion: """
            Registers (or reuses) the drones Simulated.drone-01.00, Simulated.drone-01.01 … through the registry REST API \
            (bulk, 100 per request; reused devices get new keys), then connects each over MQTT 3.1.1 with TLS and its own \
            SAS token, the Azure way, and flies deliveries between depots and customers: flight data every 5 s \
            (drone-event-sensor;v1) and operating status every 20 s (drone-state-sensor;v1) in the scenario's JSON format, \
            with battery drain and charging, occasional faults (engine overheating, battery drops, drones going silent, \
            no-fly-zone incursions), answers to C2D commands {"command":"returnToBase"} and the direct methods \
            returnToBase and getStatus, reported twin properties (mode, batteryLevel, deliveries …), the desired property \
            flightDataIntervalSeconds, reconnects with back-off and SAS renewal before expiry. The same --seed flies the \
            same deliveries.

            Example: meridian simulate --drones 1000 --ca data/tls/ca.pem --duration 600
            """)

    @OptionGroup var client: ClientOptions

    @Option(help: "Drones to fly (one MQTT connection each).") var drones = 1000
    @Option(help: "MQTT host (default: the hub URL's host).") var mqttHost: String?
    @Option(help: "MQTT port (default: 8883 with TLS, 1883 without).") var mqttsPort: Int?
    @Flag(inversion: .prefixedNo, help: "MQTT over TLS (default: on); --ca is trusted.") var tls = true
    @Option(help: ArgumentHelp("Seconds to fly (default: until interrupted).", valueName: "seconds")) var duration: Double?
    @Option(help: ArgumentHelp("Seconds at the start left out of the summary's latency percentiles (the connect storm).", valueName: "seconds"))
    var warmup = 0.0
    @Option(help: ArgumentHelp("Message rate × this (2: flight data every 2.5 s, status every 10 s).", valueName: "x")) var rateMultiplier = 1.0
    @Option(help: "Seed of the flights.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Faults per drone per hour (0: none).", valueName: "rate")) var faultsPerHour = 0.1
    @Option(help: "Event-loop threads of the simulator.") var threads = 1
    @Option(help: ArgumentHelp("New connections per second.", valueName: "per-second")) var connectRate = 500.0
    @Option(help: ArgumentHelp("Lifetime of the drones' SAS tokens; they reconnect with a new one at 85–95 % of it.", valueName: "seconds"))
    var tokenLifetime = 3600.0
    @Option(help: ArgumentHelp("Host name in user names and SAS tokens (default: the connection string's, without port).", valueName: "name"))
    var deviceHostName: String?
    @Option(help: ArgumentHelp("Write the summary as JSON to this file.", valueName: "file")) var summaryJson: String?
    @Option(help: ArgumentHelp("Write the no-fly zones (stream-SQL reference data) as JSON to this file.", valueName: "file")) var noFlyZones: String?
    @Flag(help: "Create (or replace) the drone-delivery rules first, as `meridian demo` does: six stream jobs drone-*.") var createRules = false

    public init() {}

    public func validate() throws {
        guard (1...FleetSimulator.Configuration.maximumDrones).contains(drones) else {
            throw ValidationError("--drones must be 1…\(FleetSimulator.Configuration.maximumDrones) (each drone is a connection; a process may open 20,000 files)")
        }
        if let mqttsPort, !(1...65_535).contains(mqttsPort) { throw ValidationError("--mqtts-port must be 1…65535") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        guard rateMultiplier > 0, rateMultiplier <= 1000 else { throw ValidationError("--rate-multiplier must be in (0, 1000]") }
        guard faultsPerHour >= 0, faultsPerHour <= 3600 else { throw ValidationError("--faults-per-hour must be 0…3600") }
        guard (1...8).contains(threads) else { throw ValidationError("--threads must be 1…8") }
        guard connectRate > 0 else { throw ValidationError("--connect-rate must be positive") }
        guard tokenLifetime >= 60 else { throw ValidationError("--token-lifetime must be at least 60 s") }
        if let ca = client.ca, !FileManager.default.isReadableFile(atPath: ca) { throw ValidationError("cannot read the CA file \(ca)") }
    }

    public func run() async throws {
        let cs = try client.resolvedConnectionString()
        let hubHost = URL(string: client.hub ?? "https://\(cs.hostName)")?.host ?? "127.0.0.1"
        let hostName = try deviceHostName ?? DeviceCommand.deviceHost(client)
        let layout = FleetLayout(drones: drones, seed: seed)
        if let noFlyZones { try JSONWriter.string(layout.noFlyZonesJSON()).write(toFile: noFlyZones, atomically: true, encoding: .utf8) }
        let rest = try client.client()
        if createRules { try await DemoJobs.create(layout: layout, client: rest) }
        let ids = (0..<drones).map { DroneModel.deviceID(index: $0) }
        let keys = try await SimulatedDevices.register(ids: ids, client: rest, progress: BenchCommand.Publish.note)

        var c = FleetSimulator.Configuration(layout: layout)
        c.host = mqttHost ?? hubHost
        c.port = mqttsPort ?? (tls ? 8883 : 1883)
        c.hostName = hostName
        c.drones = SimulatedDevices.credentials(ids: ids, keys: keys)
        c.seed = seed
        c.rateMultiplier = rateMultiplier
        c.duration = duration
        c.warmup = warmup
        c.threads = threads
        c.connectRate = connectRate
        c.tokenLifetime = tokenLifetime
        c.settings.faultsPerHour = faultsPerHour
        if tls { c.tls = ClientOptions.tlsConfiguration(ca: client.ca) }
        let simulator: FleetSimulator
        do {
            simulator = try FleetSimulator(c)
        } catch {
            throw ValidationError(error.message)
        }
        BenchCommand.Publish.note(
            "simulate: \(drones) drones → \(c.host):\(c.port) (\(tls ? "TLS" : "TCP")), \(String(format: "%.0f", Double(drones) * 0.25 * rateMultiplier)) msg/s expected"
                + (duration.map { ", \(Int($0)) s" } ?? ", until interrupted (Ctrl-C)"))
        let interactive = isatty(2) == 1
        let task = Task {
            try await simulator.run { p in
                BenchCommand.Publish.write(interactive ? "\r" + p.line + "\u{1B}[K" : p.line + "\n")
            }
        }
        // Ctrl-C / SIGTERM end the flight cleanly (drones disconnect, the summary is printed).
        let signals = SimulateCommand.stopOnSignals { task.cancel() }
        let report = try await task.value
        for source in signals { source.cancel() }
        if interactive { BenchCommand.Publish.write("\n") }
        if client.json { print(JSONWriter.string(report.json())) } else { print(report.text()) }
        if let summaryJson { try (JSONWriter.string(report.json()) + "\n").write(toFile: summaryJson, atomically: false, encoding: .utf8) }
    }

    /// Calls `stop` on SIGINT or SIGTERM (once).
    static func stopOnSignals(_ stop: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop() }
            source.resume()
            return source
        }
    }
}

/// Registers the simulated drones through the registry's bulk API (100 per request): new ones are
/// created, existing ones updated, all with keys generated here.
enum SimulatedDevices {
    static let chunk = 100
    static let attempts = 30

    /// The fleet's credentials: drone `i` is `ids[i]` with its registered key.
    static func credentials(ids: [String], keys: [String: SharedAccessKey]) -> [FleetSimulator.Credential] {
        ids.enumerated().map { FleetSimulator.Credential(index: $0.offset, deviceID: $0.element, key: keys[$0.element]!) }
    }

    static func register(ids: [String], client: HubRESTClient, progress: @escaping @Sendable (String) -> Void) async throws -> [String: SharedAccessKey] {
        var keys: [String: SharedAccessKey] = [:]
        var created = 0, updated = 0
        for start in stride(from: 0, to: ids.count, by: chunk) {
            let part = Array(ids[start..<min(ids.count, start + chunk)])
            var entries: [String: SharedAccessKey] = [:]
            for id in part { entries[id] = SharedAccessKey.generate() }
            let existing = try await bulk(part, mode: "create", keys: entries, client: client)
            created += part.count - existing.count
            if !existing.isEmpty {
                let failed = try await bulk(existing, mode: "update", keys: entries, client: client)
                guard failed.isEmpty else { throw ClientError(status: 0, code: "RegistrationFailed", message: "cannot update \(failed.prefix(3).joined(separator: ", "))") }
                updated += existing.count
            }
            keys.merge(entries) { $1 }
            if ids.count >= 1000, (start / chunk) % 20 == 19 { progress("simulate: registered \(keys.count)/\(ids.count) drones") }
        }
        progress("simulate: \(created) drone\(created == 1 ? "" : "s") registered, \(updated) reused (keys renewed)")
        return keys
    }

    /// One bulk request; returns the ids that already existed (create) or failed (update).
    static func bulk(_ ids: [String], mode: String, keys: [String: SharedAccessKey], client: HubRESTClient) async throws -> [String] {
        let body: [[String: Any]] = ids.map { id in
            [
                "id": id, "importMode": mode, "status": "enabled",
                "authentication": ["type": "sas", "symmetricKey": ["primaryKey": keys[id]!.base64, "secondaryKey": SharedAccessKey.generate().base64]],
            ]
        }
        for attempt in 1...attempts {
            do {
                let result: [String: Any]
                do {
                    result = try await client.request(.POST, "/devices", body: body).json as? [String: Any] ?? [:]
                } catch let error as ClientError where error.status == 400 && error.body != nil {
                    // A bulk request with failed entries answers 400 with the per-entry result, as Azure does.
                    guard let answer = try? JSONSerialization.jsonObject(with: error.body!) as? [String: Any], answer["errors"] != nil else { throw error }
                    result = answer
                }
                let errors = result["errors"] as? [[String: Any]] ?? []
                var refused: [String] = []
                for error in errors {
                    guard let id = error["deviceId"] as? String else { continue }
                    let code = error["errorCode"] as? String ?? ""
                    if mode == "create", code != "DeviceAlreadyExists" {
                        throw ClientError(status: 0, code: code, message: "cannot register \(id): \(error["errorStatus"] ?? "")")
                    }
                    refused.append(id)
                }
                return refused
            } catch let error as ClientError where error.status == 429 && attempt < attempts {
                try await Task.sleep(nanoseconds: 1_000_000_000)
            }
        }
        throw ClientError(status: 429, code: "ThrottlingException", message: "the hub kept throttling the registration")
    }
}
