import ArgumentParser
import Foundation
import HubAuth
import HubBench
import HubCore
import MQTTCodec
import NIOSSL

/// `meridian bench …`: load generators that measure a hub (or any MQTT broker) from the outside.
/// `publish` is the first; connect storms, fan-out and method round trips are to come as siblings.
public struct BenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark a hub or an MQTT broker.",
        subcommands: [Publish.self, SQL.self])

    public init() {}

    /// `meridian bench publish`: N publishers send telemetry; PUBACK throughput and latency.
    public struct Publish: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Publish telemetry from many devices at once and measure PUBACK throughput and latency.",
            discussion: """
                With the hub (default), the devices {prefix}0 … are registered through the registry REST API (existing \
                ones are reused) and connect the Azure way: MQTT 3.1.1, client id = device id, user name \
                {host}/{device}/?api-version=2021-04-12, a SAS token as password, telemetry to \
                devices/{device}/messages/events/. With --plain-broker any MQTT broker is measured: client ids \
                {prefix}{i}, topic {prefix}{i}/telemetry, no credentials.

                Latency is PUBACK time − send time; in rate mode − the intended send time, so a stalled broker is \
                charged for the whole wait. The first --warmup seconds are not counted. Exit status 3 when a \
                publisher failed to connect, was disconnected, or messages stayed unacknowledged.
                """)

        @OptionGroup var client: ClientOptions

        @Option(help: "Publishers, one connection each.") var devices = 100
        @Option(help: "Device ids (client ids) are <prefix><i>.") var devicePrefix = "bench-"
        @Option(help: "MQTT host (default: the hub URL's host; 127.0.0.1 with --plain-broker).") var mqttHost: String?
        @Option(help: "MQTT port (default: 8883 with TLS, 1883 without).") var mqttPort: Int?
        @Flag(inversion: .prefixedNo, help: "MQTT over TLS (default: on with the hub, off with --plain-broker); --ca is trusted.")
        var tls: Bool?
        @Option(help: "MQTT version: 3.1.1 (what Azure devices speak) or 5 (the window is clamped to the CONNACK's Receive Maximum).")
        var mqttVersion = "3.1.1"
        @Option(help: "QoS of every message: 0 or 1.") var qos = 1
        @Option(help: ArgumentHelp("Payload size; drone telemetry JSON of exactly this many bytes.", valueName: "bytes")) var payload = 200
        @Option(help: ArgumentHelp("Total messages per second over all devices; 0 = flat out.", valueName: "msg-per-s")) var rate: Double = 0
        @Option(help: ArgumentHelp("Seconds measured.", valueName: "seconds")) var duration: Double = 60
        @Option(help: ArgumentHelp("Seconds of load before the measurement, not counted.", valueName: "seconds")) var warmup: Double = 5
        @Option(help: "QoS 1 messages in flight per device; keep it ≤ the broker's receive maximum (the hub's receive-maximum, default 100).")
        var inflight = 100
        @Option(help: ArgumentHelp("New connections per second; 0 = all at once.", valueName: "per-second")) var connectRate: Double = 0
        @Option(help: "Event-loop threads of the generator (it shares the machine with the broker: 1 or 2).") var threads = 1
        @Flag(help: "Measure a plain MQTT broker: no registry, no credentials.") var plainBroker = false
        @Option(help: "Sample this broker process's CPU, RSS and threads from /proc.") var brokerPid: Int32?
        @Option(help: ArgumentHelp("Write the summary as JSON to this file.", valueName: "file")) var summaryJson: String?
        @Option(help: ArgumentHelp("Write the summary as Markdown to this file.", valueName: "file")) var summaryMarkdown: String?
        @Option(help: "Seed of the payload contents.") var seed: UInt64 = 1
        @Option(help: "Name of the target in the summary (default: hub or plain broker).") var label: String?
        @Option(help: ArgumentHelp("Host name in device user names and SAS tokens (default: the connection string's, without port).", valueName: "name"))
        var deviceHostName: String?

        public init() {}

        public func validate() throws {
            guard (1...PublishBenchmark.Configuration.maximumPublishers).contains(devices) else {
                throw ValidationError("--devices must be 1...\(PublishBenchmark.Configuration.maximumPublishers)")
            }
            guard !devicePrefix.isEmpty else { throw ValidationError("--device-prefix must not be empty") }
            if !plainBroker {
                // Azure device ids: 1-128 of ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ '
                let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-:.+%_#*?!(),=@;$'")
                guard devicePrefix.allSatisfy({ allowed.contains($0) }), devicePrefix.count + String(devices - 1).count <= 128 else {
                    throw ValidationError("--device-prefix must be letters, digits or - : . + % _ # * ? ! ( ) , = @ ; $ ' (device ids are at most 128 characters)")
                }
                guard !devicePrefix.contains(where: { "+#".contains($0) }) else {
                    throw ValidationError("--device-prefix must not contain + or # (they are MQTT wildcards)")
                }
            }
            if let mqttPort, !(1...65_535).contains(mqttPort) { throw ValidationError("--mqtt-port must be 1...65535") }
            guard mqttVersion == "3.1.1" || mqttVersion == "5" else { throw ValidationError("--mqtt-version must be 3.1.1 or 5") }
            guard qos == 0 || qos == 1 else { throw ValidationError("--qos must be 0 or 1") }
            if let brokerPid, brokerPid <= 0 { throw ValidationError("--broker-pid must be a process id") }
            if let ca = client.ca, !FileManager.default.isReadableFile(atPath: ca) { throw ValidationError("cannot read the CA file \(ca)") }
            // Everything else is checked by the benchmark's own configuration, with the same flag names.
            var c = try baseConfiguration()
            c.publishers = (0..<devices).map { BenchPublisher.plain(prefix: devicePrefix, index: $0) }
            do {
                try c.validate()
            } catch {
                throw ValidationError(error.message)
            }
        }

        public func run() async throws {
            var c = try baseConfiguration()
            let useTLS = tls ?? !plainBroker
            var hubHost = "127.0.0.1"
            if plainBroker {
                c.publishers = (0..<devices).map { BenchPublisher.plain(prefix: devicePrefix, index: $0) }
            } else {
                let cs = try client.resolvedConnectionString()
                hubHost = URL(string: client.hub ?? "https://\(cs.hostName)")?.host ?? "127.0.0.1"
                let hostName = try deviceHostName ?? DeviceCommand.deviceHost(client)
                let rest = try client.client()
                let keys = try await BenchDevices.ensure(
                    ids: (0..<devices).map { "\(devicePrefix)\($0)" }, client: rest, progress: Self.note)
                let expiry = Timestamp.now().secondsSince1970 + Int64(max(3600, c.hardTimeout + 600))
                c.publishers = keys.map { BenchPublisher.azureDevice(deviceID: $0.id, hostName: hostName, key: $0.key, expiry: $0.expiry(expiry)) }
                if inflight > 100 && mqttVersion == "3.1.1" {
                    Self.note("note: --inflight \(inflight) is above the hub's default receive-maximum (100); an MQTT 3.1.1 CONNACK cannot say the hub's value")
                }
            }
            c.host = mqttHost ?? (plainBroker ? "127.0.0.1" : hubHost)
            c.port = mqttPort ?? (useTLS ? 8883 : 1883)
            if useTLS {
                c.tls = ClientOptions.tlsConfiguration(ca: client.ca)
            }
            c.label = label ?? (plainBroker ? "plain broker" : "meridian hub")
            c.payloadTime = Timestamp.now().secondsSince1970

            let benchmark: PublishBenchmark
            do {
                benchmark = try PublishBenchmark(c)
            } catch {
                throw ValidationError(error.message)
            }
            Self.note("bench: \(c.publishers.count) publishers → \(c.host):\(c.port) (\(useTLS ? "TLS" : "TCP")), QoS \(qos), \(payload) B, "
                + (rate > 0 ? "\(Int(rate)) msg/s" : "flat out") + ", \(warmup) s warm-up + \(duration) s")
            let report = try await Self.withHardTimeout(seconds: c.hardTimeout) {
                let interactive = isatty(2) == 1
                return try await benchmark.run { p in
                    if interactive {
                        Self.write("\r" + p.bar() + "\u{1B}[K")
                    } else {
                        Self.write(p.line + "\n")
                    }
                }
            }
            if isatty(2) == 1 { Self.write("\n") }
            if client.json { print(try report.json()) } else { print(report.table()) }
            if let summaryJson { try (try report.json() + "\n").write(toFile: summaryJson, atomically: false, encoding: .utf8) }
            if let summaryMarkdown { try report.markdown().write(toFile: summaryMarkdown, atomically: false, encoding: .utf8) }
            if !report.isClean { throw ExitCode(3) }
        }

        /// The configuration from the flags, without publishers, host or TLS.
        func baseConfiguration() throws -> PublishBenchmark.Configuration {
            var c = PublishBenchmark.Configuration()
            c.protocolVersion = mqttVersion == "5" ? .v5 : .v3_1_1
            c.qos = qos == 0 ? .atMostOnce : .atLeastOnce
            c.payloadSize = payload
            c.rate = rate
            c.duration = duration
            c.warmup = warmup
            c.inflight = inflight
            c.connectRate = connectRate
            c.threads = threads
            c.seed = seed
            c.brokerPID = brokerPid
            return c
        }

        /// Runs `body`, but ends the process if it takes more than `seconds` (plus a grace period): a
        /// benchmark must never hang a script.
        static func withHardTimeout<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
            try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                    Self.note("\nbench: the run did not finish within its hard timeout of \(Int(seconds)) s; stopping")
                    try? await Task.sleep(nanoseconds: 5_000_000_000)
                    Foundation.exit(4)
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else { throw ExitCode(4) }
                return value
            }
        }

        @Sendable static func note(_ text: String) { write(text + "\n") }

        static func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
    }
}
