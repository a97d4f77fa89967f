import HubDevices
import HubHTTPAPI
import HubRegistry
import HubRouting
import HubStorage
import HubStreamJobs
import Logging
import MQTTBroker
import NIOCore
import NIOSSL

extension MeridianServer {
    /// Binds one listener: the broker's own for MQTT and MQTT over TLS; an `HTTPListener` (the service
    /// REST API and MQTT over WebSockets) started in `tasks` for HTTP and HTTPS. Returns the bound port.
    func bind(
        _ plan: ListenerPlan, broker: MQTTBroker, registry: DeviceRegistry, devices: DeviceProtocol, services: HTTPServices,
        tls: NIOSSLContext?,
        group: any EventLoopGroup,
        logger: Logger, tasks: inout ThrowingTaskGroup<Void, any Error>
    ) async throws -> Int {
        guard let paths = plan.kind.webSocketPaths else {
            let bound = try await broker.bind(plan.listenerConfiguration(tls: tls)!)
            return bound.localAddress.port ?? plan.port
        }
        var settings = HTTPListener.Configuration(
            name: plan.name, host: plan.host, port: plan.port, tls: plan.kind.needsTLS ? tls : nil, webSocketPaths: paths)
        settings.ipFilter = configuration.ipFilter
        let listener = HTTPListener(
            configuration: settings, api: serviceAPI(registry: registry, devices: devices, services: services, broker: broker, logger: logger), broker: broker,
            eventLoopGroup: group, logger: logger)
        tasks.addTask { try await listener.run() }
        return try await listener.bound().port ?? plan.port
    }

    /// The service REST API: SAS tokens for the hub's host names, `registry-rate`, and for
    /// `connectedDeviceCount` the broker's count of open MQTT connections (devices and other clients).
    func serviceAPI(
        registry: DeviceRegistry, devices: DeviceProtocol, services: HTTPServices, broker: MQTTBroker, logger: Logger
    ) -> ServiceAPI {
        var settings = ServiceAPI.Configuration(hostNames: configuration.hostNames)
        settings.registryRatePerMinute = configuration.registryRate
        settings.deviceRatePerMinute = configuration.deviceRate
        settings.connectedDeviceCount = { broker.statistics.snapshot().connectionsOpen }
        settings.metrics = { HubMetrics.exposition() }
        return ServiceAPI(
            registry: registry, devices: devices, events: services.events, routing: services.routing, streamJobs: services.jobs,
            alarms: services.alarms, timeSeries: services.timeSeries, configuration: settings, logger: logger)
    }
}

/// The hub's services behind the REST API, beside the registry and the device protocol.
struct HTTPServices: Sendable {
    var events: EventEndpoint
    var routing: MessageRouter
    var jobs: StreamJobs
    var alarms: any AlarmStore
    var timeSeries: TimeSeriesEndpoint
}
