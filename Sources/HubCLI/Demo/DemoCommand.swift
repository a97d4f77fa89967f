import ArgumentParser
import Foundation
import HubAuth
import HubCore
import HubServer
import HubSimulator
import Logging
import NIOSSL
import ServiceLifecycle
import Synchronization

/// `meridian demo`: a hub with embedded storage, the Drone Delivery rules, and a simulated fleet flying
/// against it — one command to see everything work.
public struct DemoCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a hub with the drone-delivery rules and a simulated fleet (1,000 drones by default).",
        discussion: """
            Starts a hub with embedded storage in --data-dir (default: a new directory under /tmp), creates the stream jobs \
            of the Drone Delivery scenario (30-second roll-ups into the time-series store; alarms for battery drops, silent \
            drones, no-fly-zone incursions — which also send the drone a returnToBase command —, engine overheating and low \
            batteries on a delivery), registers the drones and flies them over MQTT/TLS as real devices. It prints the hub's \
            addresses, the owner's connection string and commands to try (monitor, time series, alarms, the Azure SDKs). \
            Ctrl-C stops the fleet and the hub; the data directory stays.
            """)

    @Option(help: ArgumentHelp("The hub's data directory (default: a new /tmp/meridian-demo-XXXXXX).", valueName: "path")) var dataDir: String?
    @Option(help: "Drones to fly.") var drones = 1000
    @Option(help: "Seed of the flights.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Message rate × this.", valueName: "x")) var rateMultiplier = 1.0
    @Option(help: ArgumentHelp("Faults per drone per hour (so that alarms show up).", valueName: "rate")) var faultsPerHour = 1.0
    @Option(help: ArgumentHelp("Address of the hub's listeners.", valueName: "address")) var bind = "127.0.0.1"
    @Option(help: "MQTT over TLS port (the Azure SDKs dial 8883).") var mqttsPort = 8883
    @Option(help: "HTTPS port: REST API, MQTT and AMQP over WebSockets (the Azure SDKs dial 443).") var httpsPort = 443
    @Option(help: "The hub's host name (in its certificate and connection strings).") var hostName = "localhost"
    @Option(help: "Event-loop threads of the simulated fleet.") var simulatorThreads = 1
    @Option(help: ArgumentHelp("Stop after this many seconds (default: until Ctrl-C).", valueName: "seconds")) var duration: Double?
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "warning"

    public init() {}

    public func validate() throws {
        guard (1...FleetSimulator.Configuration.maximumDrones).contains(drones) else {
            throw ValidationError("--drones must be 1…\(FleetSimulator.Configuration.maximumDrones)")
        }
        for (name, port) in [("--mqtts-port", mqttsPort), ("--https-port", httpsPort)] where !(1...65_535).contains(port) {
            throw ValidationError("\(name) must be 1…65535")
        }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical") }
    }

    public func run() async throws {
        let directory = try dataDir ?? Self.temporaryDirectory()
        let ownerKey = SharedAccessKey.generate()
        let configuration: HubConfiguration
        do {
            configuration = try HubConfiguration.resolve(flags: [
                .init(.dataDir, .string(directory)), .init(.bind, .string(bind)), .init(.plainBind, .string(bind)),
                .init(.mqttPort, .integer(0)), .init(.httpPort, .integer(0)), .init(.mqttsPort, .integer(mqttsPort)),
                .init(.httpsPort, .integer(httpsPort)), .init(.hostName, .string(hostName)), .init(.ownerKey, .string(ownerKey.base64)),
                .init(.logLevel, .string(logLevel)),
            ])
        } catch {
            throw ServeCommand.fail(error)
        }
        let logger = ServeCommand.bootstrapLogging(configuration.logLevel)
        let settings = DemoSettings(
            drones: drones, seed: seed, rateMultiplier: rateMultiplier, faultsPerHour: faultsPerHour, bind: bind, mqttsPort: mqttsPort,
            httpsPort: httpsPort, simulatorThreads: simulatorThreads, duration: duration)
        let demo = DemoService(settings: settings, directory: directory, ownerKey: ownerKey, hostName: hostName, logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [
                .init(service: MeridianServer(configuration: configuration, logger: logger)),
                .init(service: demo, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as HubServerError {
            throw ServeCommand.fail(error)
        }
        if let failure = demo.failure { throw failure }
    }

    static func temporaryDirectory() throws -> String {
        var template = Array("/tmp/meridian-demo-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ValidationError("cannot create a directory under /tmp") }
        return String(cString: made)
    }
}

/// What the demo's service needs of the command line.
struct DemoSettings: Sendable {
    var drones: Int
    var seed: UInt64
    var rateMultiplier: Double
    var faultsPerHour: Double
    var bind: String
    var mqttsPort: Int
    var httpsPort: Int
    var simulatorThreads: Int
    var duration: Double?
}

/// The demo's own part, next to the hub in one service group: waits for the hub, creates the rules,
/// prints how to look at it, flies the fleet until the group shuts down (or `--duration` ends it).
final class DemoService: Service, Sendable {
    private let settings: DemoSettings
    private let directory: String
    private let ownerKey: SharedAccessKey
    private let hostName: String
    private let logger: Logger
    private let failureBox = Mutex<(any Error)?>(nil)

    init(settings: DemoSettings, directory: String, ownerKey: SharedAccessKey, hostName: String, logger: Logger) {
        self.settings = settings
        self.directory = directory
        self.ownerKey = ownerKey
        self.hostName = hostName
        self.logger = logger
    }

    var failure: (any Error)? { failureBox.withLock { $0 } }

    var ownerConnectionString: String { "HostName=\(hostName);SharedAccessKeyName=iothubowner;SharedAccessKey=\(ownerKey.base64)" }
    var caPath: String { directory + "/tls/ca.pem" }
    var hubURL: String { "https://\(hostName)\(settings.httpsPort == 443 ? "" : ":\(settings.httpsPort)")" }

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await self.fly() }
        } catch is CancellationError {
        } catch {
            failureBox.withLock { $0 = error }
            BenchCommand.Publish.note("demo: \(error)")
        }
    }

    private func fly() async throws {
        let cs = try ConnectionString.parse(ownerConnectionString)
        // The hub writes its development CA before it listens; wait for both.
        var client: HubRESTClient?
        let deadline = ContinuousClock.now + .seconds(120)
        while client == nil {
            if FileManager.default.isReadableFile(atPath: caPath), let candidate = try? HubRESTClient(baseURL: hubURL, connectionString: cs, caFile: caPath),
                (try? await candidate.request(.GET, "/devices?top=1")) != nil
            {
                client = candidate
            } else {
                guard ContinuousClock.now < deadline else { throw ValidationError("the hub did not answer on \(hubURL) within 2 minutes") }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        let rest = client!
        let layout = FleetLayout(drones: settings.drones, seed: settings.seed)
        try await DemoJobs.create(layout: layout, client: rest)
        let ids = (0..<settings.drones).map { DroneModel.deviceID(index: $0) }
        let keys = try await SimulatedDevices.register(ids: ids, client: rest, progress: BenchCommand.Publish.note)
        printBanner(firstDrone: ids[0], key: keys[ids[0]]!)

        var c = FleetSimulator.Configuration(layout: layout)
        c.host = settings.bind == "0.0.0.0" || settings.bind == "::" ? "127.0.0.1" : settings.bind
        c.port = settings.mqttsPort
        c.hostName = hostName
        c.drones = SimulatedDevices.credentials(ids: ids, keys: keys)
        c.seed = settings.seed
        c.rateMultiplier = settings.rateMultiplier
        c.duration = settings.duration
        c.threads = settings.simulatorThreads
        c.settings.faultsPerHour = settings.faultsPerHour
        c.tls = ClientOptions.tlsConfiguration(ca: caPath)
        let simulator = try FleetSimulator(c)
        let report = try await simulator.run { p in
            if Int(p.elapsed) % 10 == 0 { BenchCommand.Publish.note("demo: " + p.line) }
        }
        BenchCommand.Publish.note(report.text())
    }

    private func printBanner(firstDrone: String, key: SharedAccessKey) {
        let cs = ownerConnectionString
        let client = "--hub \(hubURL) --connection-string '\(cs)' --ca \(caPath)"
        let lines = [
            "",
            "Meridian demo: \(settings.drones) drones flying against the hub in \(directory)",
            "",
            "  REST API        \(hubURL)   (MQTT over TLS: \(hostName):\(settings.mqttsPort))",
            "  CA certificate  \(caPath)",
            "  owner           \(cs)",
            "  a drone         HostName=\(hostName);DeviceId=\(firstDrone);SharedAccessKey=\(key.base64)",
            "",
            "Try, in another terminal:",
            "  export MERIDIAN_CONNECTION_STRING='\(cs)'",
            "  meridian monitor --hub \(hubURL) --ca \(caPath)                         # the telemetry as it arrives",
            "  meridian alarm list --hub \(hubURL) --ca \(caPath)                      # what the rules found",
            "  meridian job sql list --hub \(hubURL) --ca \(caPath)                    # the rules' numbers",
            "  meridian ts query --measure velocity --interval PT1M --aggregate avg --group-by none --from -15m --hub \(hubURL) --ca \(caPath)",
            "  meridian method invoke \(firstDrone) returnToBase --hub \(hubURL) --ca \(caPath)",
            "  Azure SDKs: IOTHUB_CONNECTION_STRING='\(cs)' with the CA above trusted (REQUESTS_CA_BUNDLE / ca_cert)",
            "  (all of these also take \(client))",
            "",
            "Ctrl-C stops the fleet and the hub; the data directory stays.",
            "",
        ]
        // Unbuffered: the banner must show while the demo runs, also when stdout is a pipe.
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}
