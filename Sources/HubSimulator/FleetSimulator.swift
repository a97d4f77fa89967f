import HubCore
import Histogram
import NIOCore
import NIOPosix
import NIOSSL

/// `meridian simulate`: a fleet of simulated delivery drones, each a real device of the hub — its own
/// MQTT connection (3.1.1 over TLS, SAS token), the Azure device topics, flight data every 5 s and
/// operating status every 20 s in the scenario's format, answers to commands, direct methods and desired
/// patches, reported twin properties, reconnects with back-off and SAS renewal.
///
/// The drones live on a small `MultiThreadedEventLoopGroup`; each loop's drones, ticker and counters stay
/// on that loop (`FleetLoop`), and this type talks to them once a second.
public final class FleetSimulator: Sendable {
    public let configuration: Configuration

    public init(_ configuration: Configuration) throws(SimulationError) {
        try configuration.validate()
        self.configuration = configuration
    }

    /// Flies the fleet for `duration` (or until the task is cancelled); `progress` is called about once a
    /// second.
    public func run(progress: @escaping @Sendable (SimulationProgress) -> Void = { _ in }) async throws -> SimulationReport {
        let c = configuration
        let ssl: NIOSSLContext?
        do {
            ssl = try c.tls.map { try NIOSSLContext(configuration: $0) }
        } catch {
            throw SimulationError("cannot set up TLS: \(error)")
        }
        let serverHostname = Self.isIPAddress(c.host) ? nil : c.host
        let group = MultiThreadedEventLoopGroup(numberOfThreads: c.threads)
        do {
            let report = try await fly(group: group, ssl: ssl, serverHostname: serverHostname, progress: progress)
            try? await group.shutdownGracefully()
            return report
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func fly(
        group: MultiThreadedEventLoopGroup, ssl: NIOSSLContext?, serverHostname: String?, progress: @escaping @Sendable (SimulationProgress) -> Void
    ) async throws -> SimulationReport {
        let c = configuration
        let start = WallClock.nowMillis()
        var loops: [(eventLoop: any EventLoop, value: NIOLoopBound<FleetLoop>)] = []
        let eventLoops = Array(group.makeIterator())
        for (l, eventLoop) in eventLoops.enumerated() {
            let mine = c.drones.enumerated().filter { $0.offset % eventLoops.count == l }.map(\.element)
            let count = c.drones.count
            let bound = try await eventLoop.submit {
                let loop = FleetLoop(eventLoop: eventLoop, configuration: c, ssl: ssl, serverHostname: serverHostname, loops: eventLoops.count)
                for credential in mine {
                    let model = DroneModel(index: credential.index, layout: c.layout, settings: c.settings, seed: c.seed, startTime: start)
                    // Spread the fleet's messages evenly over the 20-second status interval.
                    let offset = Int64(credential.index % count) * 20_000 / Int64(count)
                    let agent = DroneAgent(model: model, rateMultiplier: c.rateMultiplier, start: start, offset: offset)
                    loop.add(DroneSlot(agent: agent, credential: credential, notBefore: 0))
                }
                loop.start()
                return NIOLoopBound(loop, eventLoop: eventLoop)
            }.get()
            loops.append((eventLoop, bound))
        }

        let began = ContinuousClock.now
        var interval = FleetLoop.makeHistogram()
        var last = SimulationCounters()
        var lastTime = began
        var warm = c.warmup <= 0
        while !Task.isCancelled {
            if !warm, ContinuousClock.now - began >= .seconds(c.warmup) {
                for loop in loops { try await loop.eventLoop.submit { loop.value.value.resetTotal() }.get() }
                warm = true
            }
            if let duration = c.duration, ContinuousClock.now - began >= .seconds(duration) { break }
            try? await Task.sleep(for: .seconds(1))
            var counters = SimulationCounters()
            interval.reset()
            for loop in loops {
                let (part, histogram) = try await loop.eventLoop.submit { loop.value.value.snapshot() }.get()
                counters = counters + part
                interval.add(histogram)
            }
            let now = ContinuousClock.now
            let seconds = Self.seconds(now - lastTime)
            progress(SimulationProgress(
                elapsed: Self.seconds(now - began), drones: c.drones.count, counters: counters,
                rate: seconds > 0 ? Double(counters.telemetry - last.telemetry) / seconds : 0,
                p99: interval.totalCount > 0 ? Double(interval.valueAtPercentile(99)) / 1000 : nil))
            last = counters
            lastTime = now
        }
        let elapsed = Self.seconds(ContinuousClock.now - began)
        let measured = warm ? max(0.001, elapsed - c.warmup) : elapsed
        var counters = SimulationCounters()
        var total = FleetLoop.makeHistogram()
        for loop in loops {
            try? await loop.eventLoop.flatSubmit { loop.value.value.stop(timeout: .seconds(5)) }.get()
            let (part, histogram) = try await loop.eventLoop.submit { (loop.value.value.snapshot().0, loop.value.value.totalLatency) }.get()
            counters = counters + part
            total.add(histogram)
        }
        // Drones still connected at the end (before the final DISCONNECTs) are what `connected` reports.
        counters.connected = last.connected
        return SimulationReport(
            drones: c.drones.count, seconds: elapsed, counters: counters, latency: SimulationReport.percentiles(total), latencySeconds: measured)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
