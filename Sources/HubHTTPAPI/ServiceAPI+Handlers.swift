import HubCore
import HubRegistry

/// The handlers: one `case` per route, each a few lines from the call to the registry and back to JSON.
extension ServiceAPI {
    func handle(_ call: APICall) async throws(APIError) -> APIResult {
        switch call.route {
        // MARK: direct methods
        case .invokeDeviceMethod:
            return try await invokeMethod(call, module: false)
        case .invokeModuleMethod:
            return try await invokeMethod(call, module: true)

        // MARK: twins and queries
        case .getTwin, .updateTwin, .replaceTwin:
            return try await twinCall(call, module: false)
        case .getModuleTwin, .updateModuleTwin, .replaceModuleTwin:
            return try await twinCall(call, module: true)
        case .queryDevices:
            return try await queryCall(call)

        // MARK: the events endpoint
        case .readEvents, .getCheckpoints, .commitCheckpoints, .listConsumerGroups, .putConsumerGroup, .deleteConsumerGroup:
            return try await eventsCall(call)

        // MARK: message routing
        case .getRouting, .putRouting, .putRoute, .deleteRoute, .putEndpoint, .deleteEndpoint, .listEndpointStatus, .testRoute, .readQueue:
            return try await routingCall(call)

        // MARK: stream jobs and alarms
        case .listStreamJobs, .getStreamJob, .putStreamJob, .deleteStreamJob, .startStreamJob, .stopStreamJob, .streamJobOutput,
            .listRules, .getRule, .putRule, .deleteRule:
            return try await streamJobsCall(call)
        case .listAlarms, .getAlarm, .acknowledgeAlarm, .clearAlarm, .alarmCounts:
            return try await alarmsCall(call)

        // MARK: time series
        case .queryTimeSeries, .writeTimeSeries, .listTimeSeries, .timeSeriesStats, .compactTimeSeries, .dailyReport, .exportTimeSeries:
            return try await timeSeriesCall(call)

        // MARK: cloud-to-device
        case .sendCloudToDevice, .purgeCloudToDevice, .receiveFeedback, .completeFeedback, .abandonFeedback:
            return try await cloudToDeviceCall(call)

        // MARK: devices
        case .putDevice:
            let write = try DeviceJSON.decodeWrite(try call.jsonBody, pathID: try call.deviceID())
            let device = try await perform { () async throws(RegistryError) in try await registry.putDevice(write, ifMatch: call.ifMatch) }
            return .ok(DeviceJSON.encode(device), etag: device.etag)
        case .getDevice:
            let id = try call.deviceID()
            let device = await withMessageCount(try await perform { () async throws(RegistryError) in try await registry.device(id) })
            return .ok(DeviceJSON.encode(device), etag: device.etag)
        case .deleteDevice:
            let id = try call.deviceID()
            try await perform { () async throws(RegistryError) in try await registry.deleteDevice(id, ifMatch: call.ifMatch) }
            return .noContent
        case .listDevices:
            let top = try Self.top(call.query("top"))
            var devices = try await perform { () async throws(RegistryError) in try await registry.devices(top: top) }
            for index in devices.indices { devices[index] = await withMessageCount(devices[index]) }
            return .ok(.array(devices.map(DeviceJSON.encode)))
        case .bulkDevices:
            let operations = try BulkJSON.decode(try call.jsonBody)
            let result = try await perform { () async throws(RegistryError) in try await registry.bulk(operations) }
            var answer = APIResult.ok(BulkJSON.encode(result))
            if !result.isSuccessful { answer.status = .badRequest }
            return answer
        case .regenerateDeviceKey:
            let id = try call.deviceID()
            let which = try KeyRegenerationJSON.decode(try call.jsonBody)
            let device = try await perform { () async throws(RegistryError) in try await registry.regenerateKey(id, which) }
            return .ok(DeviceJSON.encode(device), etag: device.etag)

        // MARK: statistics
        case .deviceStatistics:
            let counts = try await perform { () async throws(RegistryError) in try await registry.statistics() }
            return .ok(
                .object(
                    JSONObject([
                        "totalDeviceCount": .int(counts.total), "enabledDeviceCount": .int(counts.enabled),
                        "disabledDeviceCount": .int(counts.disabled),
                    ])))
        case .serviceStatistics:
            return .ok(.object(JSONObject(["connectedDeviceCount": .int(configuration.connectedDeviceCount())])))

        // MARK: modules
        case .putModule:
            let write = try ModuleJSON.decodeWrite(try call.jsonBody, device: try call.deviceID(), module: try call.moduleID())
            let module = try await perform { () async throws(RegistryError) in try await registry.putModule(write, ifMatch: call.ifMatch) }
            return .ok(ModuleJSON.encode(module), etag: module.etag)
        case .getModule:
            let (device, id) = (try call.deviceID(), try call.moduleID())
            let module = try await perform { () async throws(RegistryError) in try await registry.module(device, id) }
            return .ok(ModuleJSON.encode(module), etag: module.etag)
        case .deleteModule:
            let (device, id) = (try call.deviceID(), try call.moduleID())
            try await perform { () async throws(RegistryError) in try await registry.deleteModule(device, id, ifMatch: call.ifMatch) }
            return .noContent
        case .listModules:
            let device = try call.deviceID()
            let modules = try await perform { () async throws(RegistryError) in try await registry.modules(of: device) }
            return .ok(.array(modules.map(ModuleJSON.encode)))

        // MARK: policies
        case .listPolicies:
            let policies = try await perform { () async throws(RegistryError) in try await registry.policies() }
            return .ok(.array(policies.map { PolicyJSON.encode($0, withKeys: false) }))
        case .getPolicy:
            let name = try call.name("policyName")
            guard let policy = registry.policy(named: name) else {
                throw APIError(RegistryError(.policyNotFound, "no shared access policy has that name"))
            }
            return .ok(PolicyJSON.encode(policy, withKeys: true))
        case .regeneratePolicyKey:
            let name = try call.name("policyName")
            let which = try KeyRegenerationJSON.decode(try call.jsonBody)
            let policy = try await perform { () async throws(RegistryError) in try await registry.regeneratePolicyKey(name, which) }
            return .ok(PolicyJSON.encode(policy, withKeys: true))

        // MARK: CA certificates
        case .putCertificate:
            let name = try Self.certificateName(try call.name("certificateName"))
            let pem = try CertificateJSON.decodePEM(try call.jsonBody)
            let certificate = try await perform { () async throws(RegistryError) in try await registry.addCertificate(name: name, pem: pem) }
            return .ok(CertificateJSON.encode(certificate), etag: certificate.etag)
        case .listCertificates:
            let certificates = try await perform { () async throws(RegistryError) in try await registry.certificates() }
            return .ok(.object(JSONObject(["value": .array(certificates.map(CertificateJSON.encode))])))
        case .getCertificate:
            let name = try call.name("certificateName")
            let certificate = try await perform { () async throws(RegistryError) in try await registry.certificate(named: name) }
            return .ok(CertificateJSON.encode(certificate), etag: certificate.etag)
        case .deleteCertificate:
            let name = try call.name("certificateName")
            try await perform { () async throws(RegistryError) in try await registry.deleteCertificate(named: name, ifMatch: call.ifMatch) }
            return .noContent
        case .generateVerificationCode:
            let name = try call.name("certificateName")
            let certificate = try await perform { () async throws(RegistryError) in
                try await registry.generateVerificationCode(name: name, ifMatch: call.ifMatch)
            }
            return .ok(CertificateJSON.encode(certificate), etag: certificate.etag)
        case .verifyCertificate:
            let name = try call.name("certificateName")
            let proof = try CertificateJSON.decodePEM(try call.jsonBody)
            let certificate = try await perform { () async throws(RegistryError) in
                try await registry.verifyCertificate(name: name, proofPEM: proof, ifMatch: call.ifMatch)
            }
            return .ok(CertificateJSON.encode(certificate), etag: certificate.etag)

        // MARK: MQTT users
        case .putUser:
            let username = try call.name("username")
            let write = try UserJSON.decode(try call.jsonBody, username: username)
            let user = try await perform { () async throws(RegistryError) in
                try await registry.putUser(username: username, password: write.password, rules: write.rules, ifMatch: call.ifMatch)
            }
            return .ok(UserJSON.encode(user), etag: user.etag)
        case .listUsers:
            let users = try await perform { () async throws(RegistryError) in try await registry.users() }
            return .ok(.array(users.map(UserJSON.encode)))
        case .getUser:
            let username = try call.name("username")
            let user = try await perform { () async throws(RegistryError) in try await registry.user(named: username) }
            return .ok(UserJSON.encode(user), etag: user.etag)
        case .deleteUser:
            let username = try call.name("username")
            try await perform { () async throws(RegistryError) in try await registry.deleteUser(named: username, ifMatch: call.ifMatch) }
            return .noContent
        }
    }

    /// `top` of `GET /devices`: absent → the registry's maximum (it clamps); otherwise a positive integer.
    static func top(_ text: String?) throws(APIError) -> Int {
        guard let text else { return Int.max }
        guard let value = Int(text), value > 0 else { throw .invalid("top must be a positive integer") }
        return value
    }

    /// Azure's rule for certificate names: letters, digits, `-`, `.` and `_`, at most 64.
    static func certificateName(_ name: String) throws(APIError) -> String {
        let ok = name.utf8.count <= 64 && name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "-")
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_")
        }
        guard ok else { throw .invalid("certificate names have 1 to 64 letters, digits, '-', '.' or '_'") }
        return name
    }
}

extension ServiceAPI {
    /// `device` with `cloudToDeviceMessageCount` = the messages waiting in its queue (the registry does
    /// not store it; the queue is the truth).
    func withMessageCount(_ device: Device) async -> Device {
        guard let devices else { return device }
        var device = device
        device.cloudToDeviceMessageCount = await devices.cloudToDevice.pendingCount(device.id)
        return device
    }
}
