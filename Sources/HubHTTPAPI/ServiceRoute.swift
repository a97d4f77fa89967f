import HTTPTypes
import HubCore

/// Every route of the service REST API, with the rights a caller's policy must hold: **the route
/// table**. The router is built from `allCases` and nothing else, and the authorization matrix test is
/// generated from it, so a route cannot exist without declared rights.
///
/// Rights follow Azure (protocol reference §4.6): registry reads need RegistryRead, registry writes
/// RegistryWrite (which implies read, `AccessRights.satisfies`), service statistics ServiceConnect. The
/// Meridian extensions: CA certificates and MQTT users are registry data (RegistryRead/RegistryWrite);
/// shared access policies hand out keys to everything, so they need all four rights (iothubowner).
public enum ServiceRoute: String, CaseIterable, Sendable {
    case putDevice, getDevice, deleteDevice, listDevices, bulkDevices, regenerateDeviceKey
    case deviceStatistics, serviceStatistics
    case putModule, getModule, deleteModule, listModules
    case listPolicies, getPolicy, regeneratePolicyKey
    case putCertificate, listCertificates, getCertificate, deleteCertificate, generateVerificationCode, verifyCertificate
    case putUser, listUsers, getUser, deleteUser
    case invokeDeviceMethod, invokeModuleMethod
    case getTwin, updateTwin, replaceTwin, getModuleTwin, updateModuleTwin, replaceModuleTwin, queryDevices
    case sendCloudToDevice, purgeCloudToDevice, receiveFeedback, completeFeedback, abandonFeedback
    case readEvents, getCheckpoints, commitCheckpoints, listConsumerGroups, putConsumerGroup, deleteConsumerGroup
    case getRouting, putRouting, putRoute, deleteRoute, putEndpoint, deleteEndpoint, listEndpointStatus, testRoute, readQueue
    case listStreamJobs, getStreamJob, putStreamJob, deleteStreamJob, startStreamJob, stopStreamJob, streamJobOutput
    case listAlarms, getAlarm, acknowledgeAlarm, clearAlarm, alarmCounts
    case listRules, getRule, putRule, deleteRule
    case queryTimeSeries, writeTimeSeries, listTimeSeries, timeSeriesStats, compactTimeSeries, dailyReport, exportTimeSeries

    /// Method, path pattern (`{name}` captures one segment) and required rights, in one place.
    public var definition: (method: HTTPRequest.Method, path: String, rights: AccessRights) {
        switch self {
        case .putDevice: (.put, "/devices/{deviceId}", .registryWrite)
        case .getDevice: (.get, "/devices/{deviceId}", .registryRead)
        case .deleteDevice: (.delete, "/devices/{deviceId}", .registryWrite)
        case .listDevices: (.get, "/devices", .registryRead)
        case .bulkDevices: (.post, "/devices", .registryWrite)
        case .regenerateDeviceKey: (.post, "/devices/{deviceId}/regenerateKey", .registryWrite)
        case .deviceStatistics: (.get, "/statistics/devices", .registryRead)
        case .serviceStatistics: (.get, "/statistics/service", .serviceConnect)
        case .putModule: (.put, "/devices/{deviceId}/modules/{moduleId}", .registryWrite)
        case .getModule: (.get, "/devices/{deviceId}/modules/{moduleId}", .registryRead)
        case .deleteModule: (.delete, "/devices/{deviceId}/modules/{moduleId}", .registryWrite)
        case .listModules: (.get, "/devices/{deviceId}/modules", .registryRead)
        case .listPolicies: (.get, "/policies", .all)
        case .getPolicy: (.get, "/policies/{policyName}", .all)
        case .regeneratePolicyKey: (.post, "/policies/{policyName}/regenerateKey", .all)
        case .putCertificate: (.put, "/certificates/{certificateName}", .registryWrite)
        case .listCertificates: (.get, "/certificates", .registryRead)
        case .getCertificate: (.get, "/certificates/{certificateName}", .registryRead)
        case .deleteCertificate: (.delete, "/certificates/{certificateName}", .registryWrite)
        case .generateVerificationCode: (.post, "/certificates/{certificateName}/generateVerificationCode", .registryWrite)
        case .verifyCertificate: (.post, "/certificates/{certificateName}/verify", .registryWrite)
        case .putUser: (.put, "/users/{username}", .registryWrite)
        case .listUsers: (.get, "/users", .registryRead)
        case .getUser: (.get, "/users/{username}", .registryRead)
        case .deleteUser: (.delete, "/users/{username}", .registryWrite)
        case .invokeDeviceMethod: (.post, "/twins/{deviceId}/methods", .serviceConnect)
        case .invokeModuleMethod: (.post, "/twins/{deviceId}/modules/{moduleId}/methods", .serviceConnect)
        case .getTwin: (.get, "/twins/{deviceId}", .serviceConnect)
        case .updateTwin: (.patch, "/twins/{deviceId}", .serviceConnect)
        case .replaceTwin: (.put, "/twins/{deviceId}", .serviceConnect)
        case .getModuleTwin: (.get, "/twins/{deviceId}/modules/{moduleId}", .serviceConnect)
        case .updateModuleTwin: (.patch, "/twins/{deviceId}/modules/{moduleId}", .serviceConnect)
        case .replaceModuleTwin: (.put, "/twins/{deviceId}/modules/{moduleId}", .serviceConnect)
        case .queryDevices: (.post, "/devices/query", .serviceConnect)
        case .sendCloudToDevice: (.post, "/devices/{deviceId}/messages/deviceBound", .serviceConnect)
        case .purgeCloudToDevice: (.delete, "/devices/{deviceId}/commands", .serviceConnect)
        case .receiveFeedback: (.get, "/messages/serviceBound/feedback", .serviceConnect)
        case .completeFeedback: (.delete, "/messages/serviceBound/feedback/{lockToken}", .serviceConnect)
        case .abandonFeedback: (.post, "/messages/serviceBound/feedback/{lockToken}/abandon", .serviceConnect)
        case .readEvents: (.get, "/events/{consumerGroup}", .serviceConnect)
        case .getCheckpoints: (.get, "/events/{consumerGroup}/checkpoints", .serviceConnect)
        case .commitCheckpoints: (.post, "/events/{consumerGroup}/checkpoints", .serviceConnect)
        case .listConsumerGroups: (.get, "/consumergroups", .serviceConnect)
        case .putConsumerGroup: (.put, "/consumergroups/{consumerGroup}", .serviceConnect)
        case .deleteConsumerGroup: (.delete, "/consumergroups/{consumerGroup}", .serviceConnect)
        // Routing: changing it needs every right (webhook headers may carry credentials).
        case .getRouting: (.get, "/routing", .all)
        case .putRouting: (.put, "/routing", .all)
        case .putRoute: (.put, "/routing/routes/{name}", .all)
        case .deleteRoute: (.delete, "/routing/routes/{name}", .all)
        case .putEndpoint: (.put, "/routing/endpoints/{name}", .all)
        case .deleteEndpoint: (.delete, "/routing/endpoints/{name}", .all)
        case .listEndpointStatus: (.get, "/routing/endpoints", .serviceConnect)
        case .testRoute: (.post, "/routing/test", .serviceConnect)
        case .readQueue: (.get, "/routing/queues/{name}/events", .serviceConnect)
        // Stream jobs: creating or deleting one needs every right (its outputs call devices and URLs).
        case .listStreamJobs: (.get, "/jobs/sql", .serviceConnect)
        case .getStreamJob: (.get, "/jobs/sql/{name}", .serviceConnect)
        case .putStreamJob: (.put, "/jobs/sql/{name}", .all)
        case .deleteStreamJob: (.delete, "/jobs/sql/{name}", .all)
        case .startStreamJob: (.post, "/jobs/sql/{name}/start", .serviceConnect)
        case .stopStreamJob: (.post, "/jobs/sql/{name}/stop", .serviceConnect)
        case .streamJobOutput: (.get, "/jobs/sql/{name}/outputs/{output}", .serviceConnect)
        case .listAlarms: (.get, "/alarms", .serviceConnect)
        case .getAlarm: (.get, "/alarms/{alarmId}", .serviceConnect)
        case .acknowledgeAlarm: (.post, "/alarms/{alarmId}/acknowledge", .serviceConnect)
        case .clearAlarm: (.post, "/alarms/{alarmId}/clear", .serviceConnect)
        case .alarmCounts: (.get, "/statistics/alarms", .serviceConnect)
        // Rules are stream jobs (`rule-<name>`) made from settings: the same rights as jobs.
        case .listRules: (.get, "/rules", .serviceConnect)
        case .getRule: (.get, "/rules/{name}", .serviceConnect)
        case .putRule: (.put, "/rules/{name}", .all)
        case .deleteRule: (.delete, "/rules/{name}", .all)
        // The time-series store: reading and writing data is service work; compaction is maintenance.
        case .queryTimeSeries: (.post, "/timeseries/query", .serviceConnect)
        case .writeTimeSeries: (.post, "/timeseries/write", .serviceConnect)
        case .listTimeSeries: (.get, "/timeseries/series", .serviceConnect)
        case .timeSeriesStats: (.get, "/timeseries/stats", .serviceConnect)
        case .compactTimeSeries: (.post, "/timeseries/compact", .all)
        case .dailyReport: (.get, "/timeseries/reports/daily", .serviceConnect)
        case .exportTimeSeries: (.get, "/timeseries/points", .serviceConnect)
        }
    }

    public var method: HTTPRequest.Method { definition.method }
    public var path: String { definition.path }
    public var rights: AccessRights { definition.rights }

    /// Whether the route reads a JSON body (and so checks its Content-Type and size).
    var takesBody: Bool {
        switch self {
        case .putDevice, .bulkDevices, .regenerateDeviceKey, .putModule, .regeneratePolicyKey, .putCertificate, .verifyCertificate,
            .putUser, .invokeDeviceMethod, .invokeModuleMethod, .updateTwin, .replaceTwin, .updateModuleTwin, .replaceModuleTwin,
            .queryDevices, .commitCheckpoints, .putRouting, .putRoute, .putEndpoint, .testRoute, .putStreamJob, .putRule, .queryTimeSeries:
            true
        default:
            false
        }
    }

    /// Whether the route reads its body as raw bytes (a message), whatever its Content-Type.
    var takesRawBody: Bool { self == .sendCloudToDevice || self == .writeTimeSeries }

    /// Whether a call spends a token of the registry-rate budget (`registry-rate`). Telemetry written to the
    /// time-series store is data, not a registry operation.
    var usesRegistryBudget: Bool { self != .writeTimeSeries }

    /// Whether `path` (without query) has this route's shape (`RoutePattern.matches`).
    func matches(path: String) -> Bool {
        RoutePattern.matches(self.path, path: path)
    }

    /// Methods this table serves at `path` (`RoutePattern.methods(at:)` adds the device routes').
    static func methods(at path: String) -> [HTTPRequest.Method] {
        allCases.filter { $0.matches(path: path) }.map(\.method)
    }
}
