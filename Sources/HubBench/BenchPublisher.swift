import HubAuth
import HubCore

/// Who one simulated publisher is on the wire: its client identifier, credentials and topic.
public struct BenchPublisher: Sendable, Hashable {
    /// MQTT client identifier.
    public var clientID: String
    /// MQTT user name, if any.
    public var username: String?
    /// MQTT password (a SAS token for hub devices). Never printed.
    public var password: String?
    /// Topic every message goes to.
    public var topic: String

    public init(clientID: String, username: String? = nil, password: String? = nil, topic: String) {
        self.clientID = clientID
        self.username = username
        self.password = password
        self.topic = topic
    }

    /// A client of a plain MQTT broker: no credentials, client id `{prefix}{index}`, topic
    /// `{prefix}{index}/telemetry`.
    public static func plain(prefix: String, index: Int) -> BenchPublisher {
        BenchPublisher(clientID: "\(prefix)\(index)", topic: "\(prefix)\(index)/telemetry")
    }

    /// The api-version a benchmark device names in its user name.
    public static let azureAPIVersion = "2021-04-12"

    /// A hub device connecting the Azure way (MQTT 3.1.1): client id = device id, user name
    /// `{hostName}/{deviceId}/?api-version=2021-04-12`, password a device SAS token for
    /// `{hostName}/devices/{deviceId}` valid until `expiry` (seconds since 1970), telemetry to
    /// `devices/{deviceId}/messages/events/`.
    public static func azureDevice(deviceID: String, hostName: String, key: SharedAccessKey, expiry: Int64) -> BenchPublisher {
        let token = SASToken.make(resourceURI: "\(hostName)/devices/\(deviceID)", key: key, expiry: expiry)
        return BenchPublisher(
            clientID: deviceID, username: "\(hostName)/\(deviceID)/?api-version=\(azureAPIVersion)", password: token,
            topic: "devices/\(deviceID)/messages/events/")
    }
}

extension BenchPublisher: CustomStringConvertible {
    /// Never shows the password.
    public var description: String {
        "BenchPublisher(\(clientID), topic: \(topic)\(password != nil ? ", password: <redacted>" : ""))"
    }
}
