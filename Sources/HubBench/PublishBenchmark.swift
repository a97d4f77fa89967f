import Histogram
import MQTTCodec
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `meridian bench publish`: many publishers, one connection each, sending QoS 0 or 1 telemetry to one
/// broker, flat out or at a fixed total rate; measures PUBACK throughput and latency over a window after
/// a warm-up, and the CPU and memory of the broker and of itself.
///
/// The run, every step bounded:
/// 1. connect every publisher (paced by `connectRate`), each within `connectTimeout`;
/// 2. publish: warm-up, then the measured window (`duration`), then stop sending;
/// 3. drain: wait up to `drainTimeout` for the PUBACKs still due;
/// 4. DISCONNECT and close, then report.
///
/// The publishers live on a small `MultiThreadedEventLoopGroup` (`threads`); each loop's publishers,
/// histograms and rate ticker stay on that loop (`PublisherLoop`), and this type only talks to them by
/// submitting closures, once a second.
public final class PublishBenchmark: Sendable {
    public let configuration: Configuration

    public init(_ configuration: Configuration) throws(BenchError) {
        try configuration.validate()
        self.configuration = configuration
    }

    /// Runs the benchmark; `progress` is called about once a second from a background task.
    public func run(progress: @escaping @Sendable (PublishProgress) -> Void = { _ in }) async throws -> PublishReport {
        let c = configuration
        var templates: [PublishTemplate] = []
        templates.reserveCapacity(c.publishers.count)
        for (i, p) in c.publishers.enumerated() {
            let payload = try TelemetryPayload(
                size: c.payloadSize, deviceID: p.clientID, time: c.payloadTime, seed: c.seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15)
            templates.append(try PublishTemplate(topic: p.topic, payload: payload, qos: c.qos, version: c.protocolVersion))
        }
        let ssl: NIOSSLContext?
        do {
            ssl = try c.tls.map { try NIOSSLContext(configuration: $0) }
        } catch {
            throw BenchError(.setup, "cannot set up TLS: \(error)")
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: c.threads)
        var loops: [(loop: any EventLoop, value: NIOLoopBound<PublisherLoop>)] = []
        do {
            for el in group.makeIterator() {
                let bound = try await el.submit { NIOLoopBound(PublisherLoop(eventLoop: el), eventLoop: el) }.get()
                loops.append((el, bound))
            }
            let report = try await run(loops: loops, templates: templates, ssl: ssl, progress: progress)
            try? await group.shutdownGracefully()
            return report
        } catch {
            _ = try? await Self.finish(loops, timeout: 2)
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func run(
        loops: [(loop: any EventLoop, value: NIOLoopBound<PublisherLoop>)], templates: [PublishTemplate], ssl: NIOSSLContext?,
        progress: @escaping @Sendable (PublishProgress) -> Void
    ) async throws -> PublishReport {
        let c = configuration
        // 1. Connect.
        let outcomes = try await connect(loops: loops, templates: templates, ssl: ssl)
        var connected = 0
        var window = c.inflight
        var failures: [String: Int] = [:]
        for outcome in outcomes {
            switch outcome {
            case .accepted(let w):
                connected += 1
                window = min(window, w)
            case .refused(let code):
                failures["CONNACK \(code)", default: 0] += 1
            case .failed(let reason):
                failures[reason, default: 0] += 1
            }
        }
        guard connected > 0 else {
            let reasons = failures.sorted { $0.value > $1.value }.map { "\($0.value)× \($0.key)" }.joined(separator: "; ")
            throw BenchError(.connectFailed, "no publisher connected to \(c.host):\(c.port): \(reasons)")
        }

        // 2. Publish.
        let startDelay: UInt64 = 20_000_000
        let start = MonotonicClock.now() + startDelay
        let measureStart = start + UInt64(c.warmup * 1e9)
        let measureEnd = measureStart + UInt64(c.duration * 1e9)
        let interval = c.rate > 0 ? UInt64(max(1, (1e9 * Double(connected) / c.rate).rounded())) : 0
        let plan = RunPlan(start: start, measureStart: measureStart, measureEnd: measureEnd, interval: interval, publishers: c.publishers.count)
        for (el, bound) in loops { el.execute { bound.value.start(plan) } }

        let selfPID = getpid()
        var generatorStart: ProcessSample?
        var brokerStart: ProcessSample?
        var machineStart: MachineSample?
        var brokerPeakRSS = 0
        var lastReport = start
        var lastAcked: UInt64 = 0
        var nextReport = start + 1_000_000_000
        while true {
            let now = MonotonicClock.now()
            if generatorStart == nil && now >= measureStart {
                generatorStart = ProcessSample.read(pid: selfPID, includeRusage: true)
                machineStart = MachineSample.read()
                if let pid = c.brokerPID { brokerStart = ProcessSample.read(pid: pid) }
            }
            if now >= measureEnd { break }
            if now >= nextReport {
                let snap = try await Self.collect(loops, measured: true)
                let counted = c.qos == .atMostOnce ? snap.counters.sent : snap.counters.acked
                let seconds = Double(now - lastReport) / 1e9
                progress(
                    PublishProgress(
                        phase: now < measureStart ? .warmup : .measuring, elapsed: Double(now - start) / 1e9,
                        total: c.warmup + c.duration, messagesPerSecond: seconds > 0 ? Double(counted &- lastAcked) / seconds : 0,
                        intervalP99: snap.interval.totalCount > 0 ? snap.interval.valueAtPercentile(99) : nil,
                        measuredP99: (snap.measured?.totalCount ?? 0) > 0 ? snap.measured!.valueAtPercentile(99) : nil,
                        inflight: snap.counters.inflight, open: snap.counters.open, disconnects: snap.counters.disconnects,
                        errors: snap.counters.errors, backlog: snap.counters.backlog))
                lastAcked = counted
                lastReport = now
                if let pid = c.brokerPID, let s = ProcessSample.read(pid: pid) { brokerPeakRSS = max(brokerPeakRSS, s.rssKiB) }
                nextReport += 1_000_000_000
            }
            let wake = min(nextReport, generatorStart == nil ? measureStart : measureEnd)
            let after = MonotonicClock.now()
            if wake > after { try await Task.sleep(nanoseconds: wake - after) }
        }
        let generatorEnd = ProcessSample.read(pid: selfPID, includeRusage: true)
        let brokerEnd = c.brokerPID.flatMap { ProcessSample.read(pid: $0) }
        let machineEnd = MachineSample.read()

        // 3. Drain.
        let drainDeadline = MonotonicClock.now() + UInt64(c.drainTimeout * 1e9)
        var drainTimedOut = false
        var nextDrainReport = MonotonicClock.now() + 1_000_000_000
        while true {
            let counters = try await Self.counters(loops)
            if counters.inflight == 0 || counters.open == 0 { break }
            if MonotonicClock.now() >= drainDeadline {
                drainTimedOut = true
                break
            }
            if MonotonicClock.now() >= nextDrainReport {
                nextDrainReport += 1_000_000_000
                progress(
                    PublishProgress(
                        phase: .draining, elapsed: Double(MonotonicClock.now() - start) / 1e9, total: c.warmup + c.duration,
                        messagesPerSecond: 0, intervalP99: nil, measuredP99: nil, inflight: counters.inflight, open: counters.open,
                        disconnects: counters.disconnects, errors: counters.errors, backlog: 0))
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let final = try await Self.collect(loops, measured: true)
        // Due by the end of the window but never sent (the rate ticker has sent all it could by now).
        let backlogAtEnd = final.counters.backlog

        // 4. Close.
        _ = try await Self.finish(loops, timeout: 5)

        let f = final.counters
        let seconds = c.duration
        var latency: LatencySummary?
        if c.qos == .atLeastOnce, let h = final.measured, h.totalCount > 0 {
            latency = LatencySummary(
                count: h.totalCount, p50: h.valueAtPercentile(50), p90: h.valueAtPercentile(90), p99: h.valueAtPercentile(99),
                p999: h.valueAtPercentile(99.9), max: h.max, mean: h.mean)
        }
        var generator: ProcessUsage?
        if let a = generatorStart, let b = generatorEnd {
            generator = ProcessSample.usage(pid: selfPID, from: a, to: b, peakRSSKiB: b.rssKiB)
        }
        var broker: ProcessUsage?
        if let pid = c.brokerPID, let a = brokerStart, let b = brokerEnd {
            broker = ProcessSample.usage(pid: pid, from: a, to: b, peakRSSKiB: brokerPeakRSS)
        }
        var machine: MachineUsage?
        if let a = machineStart, let b = machineEnd { machine = MachineSample.usage(from: a, to: b) }
        var wallStart = timespec()
        clock_gettime(CLOCK_REALTIME, &wallStart)
        let measuredFor = Double(MonotonicClock.now() - measureStart) / 1e9
        return PublishReport(
            label: c.label, target: "\(c.host):\(c.port)", transport: c.tls == nil ? "tcp" : "tls",
            mqttVersion: c.protocolVersion == .v5 ? "5" : "3.1.1", qos: Int(c.qos.rawValue), payloadBytes: c.payloadSize,
            publishers: c.publishers.count, connected: connected, inflight: window, rate: c.rate, warmupSeconds: c.warmup,
            durationSeconds: c.duration, measuredSeconds: seconds, generatorThreads: c.threads,
            startedAt: Int64(wallStart.tv_sec) - Int64(measuredFor.rounded()),
            sent: f.sent, acked: f.acked, sentMeasured: f.sentMeasured, ackedMeasured: f.ackedMeasured,
            unacked: c.qos == .atLeastOnce ? f.sent &- f.acked : 0, unknownAcks: f.unknownAcks, errors: f.errors,
            disconnects: f.disconnects, connectFailures: c.publishers.count - connected, connectFailureReasons: failures,
            backlogAtEnd: backlogAtEnd, drainTimedOut: drainTimedOut,
            messagesPerSecond: Double(c.qos == .atLeastOnce ? f.ackedMeasured : f.sentMeasured) / seconds,
            sentPerSecond: Double(f.sentMeasured) / seconds, latency: latency, broker: broker, generator: generator,
            machine: machine)
    }

    /// Opens every publisher's connection; returns each one's outcome (all bounded by the timeouts).
    private func connect(
        loops: [(loop: any EventLoop, value: NIOLoopBound<PublisherLoop>)], templates: [PublishTemplate], ssl: NIOSSLContext?
    ) async throws -> [ConnectOutcome] {
        let c = configuration
        let serverHostname = Self.isIPAddress(c.host) ? nil : c.host
        let timeout = TimeAmount.nanoseconds(Int64(c.connectTimeout * 1e9))
        var outcomes: [EventLoopFuture<ConnectOutcome>] = []
        let began = MonotonicClock.now()
        for (i, publisher) in c.publishers.enumerated() {
            if c.connectRate > 0 {
                let due = began + UInt64(Double(i) / c.connectRate * 1e9)
                let now = MonotonicClock.now()
                if due > now { try await Task.sleep(nanoseconds: due - now) }
            }
            let (el, bound) = loops[i % loops.count]
            let promise = el.makePromise(of: ConnectOutcome.self)
            let template = templates[i]
            // A last bound on the whole attempt (TCP connect + TLS + CONNACK); completing twice is a no-op.
            el.scheduleTask(in: timeout * 2 + .seconds(1)) { promise.succeed(.failed("connect timed out")) }
            ClientBootstrap(group: el)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let ssl {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: ssl, serverHostname: serverHostname))
                        }
                        let handler = PublisherHandler(
                            index: i, publisher: publisher, template: template, configuration: c, loop: bound.value, connected: promise)
                        bound.value.add(handler)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: c.host, port: c.port)
                .whenFailure { error in promise.succeed(.failed("\(error)")) }
            outcomes.append(promise.futureResult)
        }
        var results: [ConnectOutcome] = []
        results.reserveCapacity(outcomes.count)
        for f in outcomes { results.append(try await f.get()) }
        return results
    }

    /// Counts and histograms of every loop, merged.
    private static func collect(
        _ loops: [(loop: any EventLoop, value: NIOLoopBound<PublisherLoop>)], measured: Bool
    ) async throws -> LoopSnapshot {
        var merged = LoopSnapshot(counters: PublisherCounters(), interval: PublisherLoop.makeHistogram(), measured: measured ? PublisherLoop.makeHistogram() : nil)
        for (el, bound) in loops {
            let s = try await el.submit { bound.value.snapshot(withMeasured: measured) }.get()
            merged.counters = merged.counters + s.counters
            merged.interval.add(s.interval)
            if let m = s.measured { merged.measured?.add(m) }
        }
        return merged
    }

    private static func counters(_ loops: [(loop: any EventLoop, value: NIOLoopBound<PublisherLoop>)]) async throws -> PublisherCounters {
        var total = PublisherCounters()
        for (el, bound) in loops { total = total + (try await el.submit { bound.value.counters() }.get()) }
        return total
    }

    /// DISCONNECT and close everything; true when all closed within `timeout` seconds.
    @discardableResult
    private static func finish(_ loops: [(loop: any EventLoop, value: NIOLoopBound<PublisherLoop>)], timeout: Double) async throws -> Bool {
        var all = true
        for (el, bound) in loops {
            let promise = el.makePromise(of: Bool.self)
            el.execute {
                bound.value.finish().whenComplete { _ in promise.succeed(true) }
                el.scheduleTask(in: .nanoseconds(Int64(timeout * 1e9))) { promise.succeed(false) }
            }
            all = try await promise.futureResult.get() && all
        }
        return all
    }

    /// Whether `host` is an IPv4 or IPv6 literal (TLS sends no SNI for those; the certificate is
    /// checked against the address).
    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
