import HTTPTypes
import HubCore
import HubDevices
import HubMessaging
import HubRegistry

/// The service side of cloud-to-device messaging: send (Meridian's REST form of what Azure's service
/// SDK does over AMQP), purge, and the feedback queue (`/messages/serviceBound/feedback`).
extension ServiceAPI {
    private var cloudToDevice: CloudToDeviceService {
        get throws(APIError) {
            guard let devices else { throw APIError(.serviceUnavailable, "cloud-to-device messaging is not available") }
            return devices.cloudToDevice
        }
    }

    func cloudToDeviceCall(_ call: APICall) async throws(APIError) -> APIResult {
        let service = try cloudToDevice
        do {
            switch call.route {
            case .sendCloudToDevice:
                let id = try call.deviceID()
                let device = try await perform { () async throws(RegistryError) in try await registry.device(id) }
                let headers = call.request.headers.map { (name: $0.name.rawName, value: $0.value) }
                let message = try await Self.messaging { () throws(MessagingError) in
                    try HTTPMessageHeaders.cloudToDeviceSend(headers: headers, body: call.rawBody ?? [])
                }
                let entry = try await Self.messaging { () async throws(MessagingError) in
                    try await service.enqueue(message, to: id, deviceGenerationID: device.generationID)
                }
                return .ok(.object(JSONObject([
                    "messageId": .optional(entry.message.messageID), "deviceId": .string(id.rawValue),
                    "sequenceNumber": .number(String(entry.sequenceNumber)),
                    "expiryTimeUtc": .string(entry.expiryTime.iso8601), "pending": .int(await service.pendingCount(id)),
                ])))
            case .purgeCloudToDevice:
                let id = try call.deviceID()
                _ = try await perform { () async throws(RegistryError) in try await registry.device(id) }
                let purged = try await Self.messaging { () async throws(MessagingError) in try await service.purge(id) }
                return .ok(.object(JSONObject([
                    "totalMessagesPurged": .int(purged), "deviceId": .string(id.rawValue), "moduleId": .null,
                ])))
            case .receiveFeedback:
                let received = try await Self.messaging { () async throws(MessagingError) in try await service.receiveFeedback() }
                guard let batch = received else { return .noContent }
                var result = APIResult.ok(.array(batch.records.map(Self.feedbackJSON)))
                result.headers[.eTag] = "\"\(batch.lockToken)\""
                return result
            case .completeFeedback:
                let token = try call.capture("lockToken")
                try await Self.messaging { () async throws(MessagingError) in try await service.completeFeedback(lockToken: token) }
                return .noContent
            case .abandonFeedback:
                let token = try call.capture("lockToken")
                try await Self.messaging { () async throws(MessagingError) in try await service.abandonFeedback(lockToken: token) }
                return .noContent
            default:
                throw APIError(.notFound, "no such route")
            }
        }
    }

    /// Runs a messaging call, turning its error into the API's.
    static func messaging<T>(_ body: () async throws(MessagingError) -> T) async throws(APIError) -> T {
        do {
            return try await body()
        } catch {
            throw APIError(error)
        }
    }

    /// One record as Azure's feedback JSON.
    static func feedbackJSON(_ record: CloudToDeviceFeedback) -> JSONValue {
        .object(JSONObject([
            "originalMessageId": .string(record.originalMessageID), "description": .string(record.description),
            "statusCode": .string(record.status.rawValue), "deviceGenerationId": .optional(record.deviceGenerationID),
            "deviceId": .string(record.device.rawValue), "enqueuedTimeUtc": .string(record.enqueuedTime.iso8601),
        ]))
    }
}

extension APIError {
    init(_ error: MessagingError) {
        self.init(Code(error.code.azureErrorName, error.code.azureErrorCode ?? error.code.httpStatus * 1000), error.message)
    }
}
