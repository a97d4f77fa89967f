import HubCore

extension LogEvent {
    /// The event as one JSON record, the shape every reader of the log sees (the `/events` API over
    /// Server-Sent Events and WebSocket, `meridian monitor --json`, `meridian eventlog dump`):
    ///
    /// ```json
    /// {"deviceId":"drone-1","moduleId":"nav","partition":2,"offset":41,"sequenceNumber":41,
    ///  "enqueuedTime":"2026-11-24T10:00:00.123Z","properties":{"alert":"true"},
    ///  "systemProperties":{"message-id":"m1","content-type":"application/json", …,
    ///  "iothub-connection-device-id":"drone-1","iothub-enqueuedtime":"…","iothub-message-source":"Telemetry"},
    ///  "body":{"velocity":"58.08"},"bodyEncoding":"json"}
    /// ```
    ///
    /// `moduleId` is present only for module messages. `properties` are the application properties (a
    /// bare key has the value `""`, a repeated name keeps its first value); `systemProperties` use the
    /// names of Azure's event endpoint (see `DeviceMessage.systemAnnotations`). The body is the JSON
    /// value itself when it is UTF-8 JSON (no `content-encoding` other than UTF-8, no `content-type`
    /// other than a JSON one, and it parses), re-serialized compactly so one record is one line; else
    /// the body's bytes in base64. `bodyEncoding` (`json` or `base64`) says which, so a JSON string body
    /// is never mistaken for base64.
    public func jsonObject(partition: Int) -> JSONObject {
        var object = JSONObject()
        object["deviceId"] = .optional(message.connectionDeviceID?.rawValue ?? deviceIDFromKey)
        if let module = message.connectionModuleID { object["moduleId"] = .string(module.rawValue) }
        object["partition"] = .int(partition)
        object["offset"] = .number(String(offset))
        object["sequenceNumber"] = .number(String(sequenceNumber))
        object["enqueuedTime"] = .string(enqueuedTime.iso8601)
        var properties = JSONObject()
        for property in message.applicationProperties where properties[property.name] == nil {
            properties[property.name] = .string(property.value ?? "")
        }
        object["properties"] = .object(properties)
        var system = JSONObject()
        for (name, value) in message.systemAnnotations where system[name] == nil { system[name] = .string(value) }
        object["systemProperties"] = .object(system)
        if let json = bodyJSON {
            object["body"] = json
            object["bodyEncoding"] = .string("json")
        } else {
            object["body"] = .string(Base64.encode(message.body))
            object["bodyEncoding"] = .string("base64")
        }
        return object
    }

    /// `jsonObject(partition:)` serialized: one line of compact JSON.
    public func json(partition: Int) -> [UInt8] {
        JSONWriter.bytes(.object(jsonObject(partition: partition)))
    }

    /// The body as a JSON value when it is UTF-8 JSON (see `jsonObject`), else nil.
    public var bodyJSON: JSONValue? {
        if let encoding = message.contentEncoding?.lowercased(), encoding != "utf-8", encoding != "utf8" { return nil }
        if let type = message.contentType?.lowercased(), !type.contains("json") { return nil }
        guard !message.body.isEmpty else { return nil }
        return try? JSONParser.parse(message.body)
    }

    /// The device id part of the partition key (`device` or `device/module`), for events without a
    /// connection stamp.
    private var deviceIDFromKey: String? {
        partitionKey.isEmpty ? nil : String(partitionKey.split(separator: "/", maxSplits: 1).first ?? "")
    }
}
