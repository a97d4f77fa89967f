import HubCore

/// How messages map to and from HTTPS headers (protocol reference §6): pure functions over
/// `(name, value)` pairs, so the HTTP layer can use them with any header type.
///
/// Header names are matched case-insensitively (ASCII). Application properties travel as
/// `iothub-app-{name}`; the part after the prefix keeps the case it arrived with (HTTP/2 lowercases every
/// header name, so a device that needs case-sensitive property names should use MQTT).
public enum HTTPMessageHeaders {
    /// A header: name and value.
    public typealias Header = (name: String, value: String)

    /// The prefix of application property headers.
    public static let applicationPropertyPrefix = "iothub-app-"

    /// A device's `POST /devices/{id}/messages/events`: `iothub-app-{name}` headers become application
    /// properties (in header order); `iothub-messageid`, `iothub-correlationid`, `iothub-userid`,
    /// `iothub-contenttype`, `iothub-contentencoding` and `iothub-creation-time-utc` system properties.
    /// `Content-Type` / `Content-Encoding` fill the content type and encoding when the `iothub-` headers
    /// do not. Other headers are ignored. Nothing is hub-stamped: do that next.
    public static func telemetry(headers: [Header], body: [UInt8]) throws(MessagingError) -> DeviceMessage {
        try message(headers: headers, body: body) { (name, value, message) throws(MessagingError) in
            guard name == "iothub-creation-time-utc" else { return false }
            message.creationTimeUTC = try ascii(value)
            return true
        }
    }

    /// A service's cloud-to-device send over HTTPS: `iothub-app-{name}` → application properties;
    /// `iothub-messageid`, `iothub-correlationid`, `iothub-userid`, `iothub-ack` (`none|positive|
    /// negative|full`), `iothub-expiry` (ISO 8601), `iothub-contenttype` / `Content-Type`,
    /// `iothub-contentencoding` / `Content-Encoding`. `.invalidSystemProperty` for an unknown ack mode or
    /// an unparsable expiry. The queue checks limits and stamps the rest at enqueue.
    public static func cloudToDeviceSend(headers: [Header], body: [UInt8]) throws(MessagingError) -> DeviceMessage {
        try message(headers: headers, body: body) { (name, value, message) throws(MessagingError) in
            switch name {
            case "iothub-ack": try SystemProperty.ack.set(try ascii(value), on: &message)
            case "iothub-expiry": try SystemProperty.absoluteExpiryTime.set(try ascii(value), on: &message)
            default: return false
            }
            return true
        }
    }

    /// The headers both directions share (application properties, ids, content type and encoding);
    /// `extra` takes a lower-cased `iothub-` header name and its raw value and returns whether it used it.
    private static func message(
        headers: [Header], body: [UInt8],
        extra: (String, String, inout DeviceMessage) throws(MessagingError) -> Bool
    ) throws(MessagingError) -> DeviceMessage {
        var message = DeviceMessage(body: body)
        var contentType: String?
        var contentEncoding: String?
        for header in headers {
            let name = lowercased(header.name)
            if try takeApplicationProperty(header, lowercasedName: name, into: &message) { continue }
            switch name {
            case "iothub-messageid": message.messageID = try ascii(header.value)
            case "iothub-correlationid": message.correlationID = try ascii(header.value)
            case "iothub-userid": message.userID = try ascii(header.value)
            case "iothub-contenttype": message.contentType = try ascii(header.value)
            case "iothub-contentencoding": message.contentEncoding = try ascii(header.value)
            case "content-type": contentType = try ascii(header.value)
            case "content-encoding": contentEncoding = try ascii(header.value)
            default:
                if name.hasPrefix("iothub-") { _ = try extra(name, header.value, &message) }
            }
        }
        if message.contentType == nil { message.contentType = contentType }
        if message.contentEncoding == nil { message.contentEncoding = contentEncoding }
        return message
    }

    /// The headers of a `200` answer to a device's `GET /devices/{id}/messages/deviceBound`: `ETag` with
    /// the quoted lock token, then `iothub-messageid`, `iothub-correlationid`, `iothub-sequencenumber`,
    /// `iothub-to`, `iothub-userid`, `iothub-ack`, `iothub-expiry`, `iothub-deliverycount`,
    /// `iothub-enqueuedtime`, `ContentType`, `ContentEncoding` (each only when set), then one
    /// `iothub-app-{name}` per application property (a bare key has an empty value: HTTP cannot tell them
    /// apart). Times are ISO 8601 UTC. The body is the message body.
    public static func cloudToDeviceReceive(_ delivery: CloudToDeviceDelivery) -> [Header] {
        let message = delivery.message
        var headers: [Header] = [("ETag", "\"\(delivery.lockToken)\"")]
        func add(_ name: String, _ value: String?) {
            if let value { headers.append((name, value)) }
        }
        add("iothub-messageid", message.messageID)
        add("iothub-correlationid", message.correlationID)
        add("iothub-sequencenumber", String(delivery.sequenceNumber))
        add("iothub-to", message.to)
        add("iothub-userid", message.userID)
        add("iothub-ack", message.ack?.rawValue)
        add("iothub-expiry", message.absoluteExpiryTime?.iso8601)
        add("iothub-deliverycount", String(delivery.deliveryCount))
        add("iothub-enqueuedtime", delivery.enqueuedTime.iso8601)
        add("ContentType", message.contentType)
        add("ContentEncoding", message.contentEncoding)
        for property in message.applicationProperties {
            headers.append((applicationPropertyPrefix + property.name, property.value ?? ""))
        }
        return headers
    }

    /// The lock token in an `ETag`/`If-Match` value or a URL path segment: without surrounding quotes.
    public static func lockToken(fromETag value: String) -> String {
        let bytes = value.utf8
        if bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\"") {
            return String(Substring(value.utf8.dropFirst().dropLast()))
        }
        return value
    }

    /// If `header` is `iothub-app-{name}`, appends the property and returns true.
    private static func takeApplicationProperty(
        _ header: Header, lowercasedName: String, into message: inout DeviceMessage
    ) throws(MessagingError) -> Bool {
        guard lowercasedName.utf8.starts(with: applicationPropertyPrefix.utf8) else { return false }
        let name = String(Substring(header.name.utf8.dropFirst(applicationPropertyPrefix.utf8.count)))
        guard !name.isEmpty else { throw MessagingError(.emptyPropertyName, "an iothub-app- header has no property name") }
        message.applicationProperties.append(DeviceMessage.Property(try ascii(name), try ascii(header.value)))
        return true
    }

    private static func ascii(_ text: String) throws(MessagingError) -> String {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else {
            throw MessagingError(.nonASCIIProperty, "property names and values must be ASCII")
        }
        return text
    }

    private static func lowercased(_ name: String) -> String {
        String(decoding: name.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}
