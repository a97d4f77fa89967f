import Foundation
import HubCore
import HubEventLog
import HubRegistry
import HubRouting
import HubTwins
import Metrics

extension MeridianServer {
    /// Message routing over the event log: the table in `<data-dir>/routing/routing.json`, endpoint
    /// positions and outputs below `<data-dir>/routing`, `$twin` read from the twin service.
    func openRouter(log: EventLog, registry: DeviceRegistry, twins: TwinService) throws(HubServerError) -> MessageRouter {
        let directory = configuration.dataDirectory + "/routing"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw HubServerError(.dataDirectory, "cannot create \(directory): \(error.localizedDescription)")
        }
        var queues = EventLog.Configuration()
        queues.durability = configuration.durability
        queues.retentionAge = .seconds(configuration.eventRetentionHours * 3600)
        do throws(RoutingError) {
            return try MessageRouter(
                log: log, store: FileRoutingStore(path: directory + "/routing.json"), locations: .init(routingDirectory: directory),
                hubName: configuration.hostName, queueConfiguration: queues,
                twinLookup: { device, module in await Self.serviceTwin(device, module, registry: registry, twins: twins) }, logger: logger)
        } catch {
            throw HubServerError(.invalidConfiguration, "the routing table in \(directory)/routing.json cannot be used: \(error.message)")
        }
    }

    /// A device's or module's service twin as `$twin` sees it; nil when the identity is gone.
    static func serviceTwin(_ device: DeviceID, _ module: ModuleID?, registry: DeviceRegistry, twins: TwinService) async -> JSONValue? {
        do {
            if let module {
                let identity = try await registry.module(device, module)
                return TwinJSON.serviceTwin(try await twins.twin(of: IdentityID(device: device, module: module)), module: identity)
            }
            let identity = try await registry.device(device)
            return TwinJSON.serviceTwin(try await twins.twin(of: IdentityID(device: device)), device: identity)
        } catch {
            return nil
        }
    }
}

/// Publishes each routing endpoint's state as `meridian_routing_*{endpoint}`: delivered records, failed
/// attempts and events lost to retention (counters), lag in events and health (1 healthy, 0 retrying)
/// as gauges.
struct RoutingMetricsExporter {
    private struct Series {
        var delivered: Counter
        var failures: Counter
        var lost: Counter
        var lag: Gauge
        var healthy: Gauge
        var last: EndpointStatus
    }

    private var series: [String: Series] = [:]

    mutating func export(_ statuses: [EndpointStatus]) {
        for status in statuses {
            let dimensions = [("endpoint", status.endpoint)]
            var entry = series[status.endpoint] ?? Series(
                delivered: Counter(label: "meridian.routing.delivered", dimensions: dimensions),
                failures: Counter(label: "meridian.routing.failures", dimensions: dimensions),
                lost: Counter(label: "meridian.routing.lost", dimensions: dimensions),
                lag: Gauge(label: "meridian.routing.lag", dimensions: dimensions),
                healthy: Gauge(label: "meridian.routing.healthy", dimensions: dimensions),
                last: EndpointStatus(endpoint: status.endpoint, type: status.type))
            // A restarted dispatcher starts its counts again: count from zero then.
            let previous = status.delivered >= entry.last.delivered && status.failures >= entry.last.failures ? entry.last
                : EndpointStatus(endpoint: status.endpoint, type: status.type)
            if status.delivered > previous.delivered { entry.delivered.increment(by: status.delivered - previous.delivered) }
            if status.failures > previous.failures { entry.failures.increment(by: status.failures - previous.failures) }
            if status.lost > previous.lost { entry.lost.increment(by: status.lost - previous.lost) }
            entry.lag.record(Double(status.lag))
            entry.healthy.record(status.health == .healthy ? 1 : 0)
            entry.last = status
            series[status.endpoint] = entry
        }
    }

    static func run(_ router: MessageRouter, every interval: Duration = .seconds(1)) async {
        var exporter = RoutingMetricsExporter()
        while !Task.isCancelled {
            exporter.export(await router.status())
            try? await Task.sleep(for: interval)
        }
    }
}
