import Foundation
import HubServer
import HubStorage
import HubTestKit
import Logging
import MQTTBroker
import MQTTCodec
import Testing

@Suite("HubConfiguration")
struct HubConfigurationTests {
    typealias Key = HubConfiguration.Key

    @Test("defaults are the documented ones")
    func defaults() throws {
        let c = try HubConfiguration.resolve(flags: [])
        #expect(c.dataDirectory == "./meridian-data")
        #expect(c.bind == "0.0.0.0")
        #expect(c.plainBind == "127.0.0.1")
        #expect(c.mqttPort == 1883)
        #expect(c.mqttsPort == 8883)
        #expect(c.httpPort == 8080)
        #expect(c.httpsPort == 8443)
        #expect(c.tlsCertificatePath == nil)
        #expect(c.tlsKeyPath == nil)
        #expect(c.allowAnonymous == false)
        #expect(c.hostName == "localhost")
        #expect(c.logLevel == .info)
        #expect(c.durability == .process)
        #expect(c.eventLoopThreads == 0 && c.effectiveEventLoopThreads >= 1)
        #expect(c.eventPartitions == 4 && c.eventRetentionHours == 24 && c.eventRetentionBytes == 0)
        #expect(c.eventBatchDelayMs == 5 && c.eventBatchRecords == 512)
        #expect(c.timeseriesRetentionDays == 30 && c.timeseriesWindowSeconds == 300)
        #expect(c.configFile == nil)
        #expect(c.limits == BrokerConfiguration())
        #expect(c.brokerConfiguration.allowAnonymous == false)
    }

    @Test("the setting names are the published interface")
    func names() {
        #expect(
            Key.allCases.map(\.rawValue) == [
                "config", "data-dir", "bind", "plain-bind", "mqtt-port", "mqtts-port", "http-port", "https-port",
                "tls-cert", "tls-key", "allow-anonymous", "host-name", "log-level", "durability",
                "event-loop-threads", "host-aliases", "ip-filter", "owner-key", "master-key", "event-partitions",
                "event-retention-hours", "event-retention-bytes", "event-batch-delay-ms", "event-batch-records", "timeseries-retention-days", "timeseries-window-seconds",
                "timeseries-retention-rule", "timeseries-tag-field", "timeseries-ignore-field", "timeseries-max-strings",
                "max-connections", "max-packet-size", "max-user-properties", "connect-timeout", "receive-maximum",
                "topic-alias-maximum", "maximum-qos", "max-subscriptions-per-session", "max-topic-levels",
                "max-queued-messages", "max-queued-bytes", "max-session-expiry", "max-keep-alive",
                "max-retained-messages", "persistence-flush-interval", "connect-rate", "registry-rate", "device-rate",
            ])
        for key in Key.allCases where key != .config && key != .tlsKey {
            #expect(key.help.contains("(default: "), "\(key.rawValue) help lacks its default")
        }
    }

    @Test("a TOML file sets every kind of setting")
    func toml() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.appending("meridian.toml")
        try """
            data-dir = "state"
            bind = "::"
            plain-bind = "127.0.0.2"
            mqtt-port = 0
            mqtts-port = 18883
            http-port = 18080
            https-port = 18443
            tls-cert = "/etc/meridian/cert.pem"
            tls-key = "keys/key.pem"
            allow-anonymous = true
            host-name = "hub.example.com"
            log-level = "debug"
            durability = "power"

            [limits]
            max-connections = 20000
            max-packet-size = 1048576
            max-user-properties = 16
            connect-timeout = 2.5
            receive-maximum = 50
            topic-alias-maximum = 0
            maximum-qos = 1
            max-subscriptions-per-session = 10
            max-topic-levels = 8
            max-queued-messages = 500
            max-queued-bytes = 65536
            max-session-expiry = 0
            max-keep-alive = 600
            max-retained-messages = 1000
            persistence-flush-interval = 1
            """.write(toFile: path, atomically: false, encoding: .utf8)
        let c = try HubConfiguration.resolve(flags: [.init(.config, .string(path))])
        #expect(c.configFile == path)
        #expect(c.dataDirectory == dir.appending("state"))  // relative to the file
        #expect(c.bind == "::")
        #expect(c.plainBind == "127.0.0.2")
        #expect([c.mqttPort, c.mqttsPort, c.httpPort, c.httpsPort] == [Int]([0, 18883, 18080, 18443]))
        #expect(c.tlsCertificatePath == "/etc/meridian/cert.pem")
        #expect(c.tlsKeyPath == dir.appending("keys/key.pem"))
        #expect(c.allowAnonymous && c.brokerConfiguration.allowAnonymous)
        #expect(c.hostName == "hub.example.com")
        #expect(c.logLevel == .debug)
        #expect(c.durability == .power)
        var expected = BrokerConfiguration()
        expected.maximumConnections = 20000
        expected.maximumPacketSize = 1_048_576
        expected.maximumUserProperties = 16
        expected.connectTimeoutSeconds = 2.5
        expected.receiveMaximum = 50
        expected.topicAliasMaximum = 0
        expected.maximumQoS = .atLeastOnce
        expected.maximumSubscriptionsPerSession = 10
        expected.maximumTopicLevels = 8
        expected.maximumQueuedMessages = 500
        expected.maximumQueuedBytes = 65536
        expected.maximumSessionExpiryInterval = 0
        expected.maximumKeepAlive = 600
        expected.maximumRetainedMessages = 1000
        expected.persistenceFlushInterval = 1
        #expect(c.limits == expected)
    }

    @Test("lists: ip-filter and host-aliases from TOML arrays and YAML lists")
    func lists() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let toml = dir.appending("m.toml")
        try """
            host-aliases = ["hub.local", "127.0.0.2"]
            ip-filter = ["deny 192.168.1.0/24", "allow 192.168.0.0/16", "deny 0.0.0.0/0"]
            [limits]
            connect-rate = 10
            registry-rate = 0
            """.write(toFile: toml, atomically: false, encoding: .utf8)
        let t = try HubConfiguration.resolve(flags: [.init(.config, .string(toml))])
        #expect(t.hostAliases == ["hub.local", "127.0.0.2"])
        #expect(t.ipFilter.allows([192, 168, 2, 1]) && !t.ipFilter.allows([192, 168, 1, 1]) && !t.ipFilter.allows([8, 8, 8, 8]))
        #expect(t.connectRate == 10 && t.registryRate == 0)
        let yaml = dir.appending("m.yaml")
        try """
            ip-filter:
              - allow 127.0.0.0/8
              - deny ::/0
            """.write(toFile: yaml, atomically: false, encoding: .utf8)
        let y = try HubConfiguration.resolve(flags: [.init(.config, .string(yaml))])
        #expect(y.ipFilter.rules.count == 2 && y.ipFilter.allows([127, 0, 0, 1]))
        let bad = dir.appending("bad.toml")
        try "ip-filter = [\"permit 1.2.3.4\"]\n".write(toFile: bad, atomically: false, encoding: .utf8)
        #expect(throws: HubServerError.self) { try HubConfiguration.resolve(flags: [.init(.config, .string(bad))]) }
    }

    @Test("time-series retention rules: device glob, measure glob, days; anything else is refused", arguments: [
        ("test-* * 2", true), ("drone-?? velocity 365", true), ("* *", false), ("* * 0", false), ("* * 3651", false), ("a b c", false),
        ("* * 1 extra", false),
    ])
    func retentionRules(_ text: String, valid: Bool) {
        let resolved = try? HubConfiguration.resolve(flags: [.init(.timeseriesRetentionRule, .array([.string(text)]))])
        #expect((resolved != nil) == valid)
        if valid { #expect(resolved?.timeseriesRetentionRules.count == 1) }
    }

    @Test("time-series mapping settings: field lists and the string limit are checked")
    func timeSeriesMapping() throws {
        let defaults = try HubConfiguration.resolve(flags: [])
        #expect(defaults.timeseriesTagFields.isEmpty && defaults.timeseriesIgnoredFields.contains("deviceId") && defaults.timeseriesMaxStrings == 100_000)
        let set = try HubConfiguration.resolve(flags: [
            .init(.timeseriesTagField, .array([.string("motor")])), .init(.timeseriesIgnoreField, .string("serial")),
            .init(.timeseriesMaxStrings, .integer(7)),
        ])
        #expect(set.timeseriesTagFields == ["motor"] && set.timeseriesIgnoredFields == ["serial"] && set.timeseriesMaxStrings == 7)
        #expect(throws: HubServerError.self) { try HubConfiguration.resolve(flags: [.init(.timeseriesTagField, .array([.string("")]))]) }
        #expect(throws: HubServerError.self) { try HubConfiguration.resolve(flags: [.init(.timeseriesMaxStrings, .integer(0))]) }
        #expect(throws: HubServerError.self) { try HubConfiguration.resolve(flags: [.init(.timeseriesIgnoreField, .integer(3))]) }
    }

    @Test("a YAML file sets the same settings", arguments: ["meridian.yaml", "meridian.yml"])
    func yaml(fileName: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.appending(fileName)
        try """
            # comments are fine
            data-dir: /var/lib/meridian
            mqtt-port: 1884
            https-port: 0
            allow-anonymous: yes
            host-name: "10.0.0.7"
            log-level: warning
            durability: process
            limits:
              max-connections: 7
              connect-timeout: 0.25
              maximum-qos: 0
              persistence-flush-interval: 3
            """.write(toFile: path, atomically: false, encoding: .utf8)
        let c = try HubConfiguration.resolve(flags: [.init(.config, .string(path))])
        #expect(c.dataDirectory == "/var/lib/meridian")
        #expect(c.mqttPort == 1884)
        #expect(c.httpsPort == 0)
        #expect(c.allowAnonymous)
        #expect(c.hostName == "10.0.0.7")
        #expect(c.logLevel == .warning)
        #expect(c.limits.maximumConnections == 7)
        #expect(c.limits.connectTimeoutSeconds == 0.25)
        #expect(c.limits.maximumQoS == .atMostOnce)
        #expect(c.limits.persistenceFlushInterval == 3)
    }

    @Test("flags win over the file")
    func flagsWin() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.appending("m.toml")
        try """
            mqtt-port = 1000
            host-name = "from-file"
            allow-anonymous = true
            [limits]
            max-connections = 5
            max-keep-alive = 60
            """.write(toFile: path, atomically: false, encoding: .utf8)
        // The config flag may come after the others: the file is still applied first.
        let c = try HubConfiguration.resolve(flags: [
            .init(.mqttPort, .integer(2000)), .init(.allowAnonymous, .bool(false)),
            .init(.maxConnections, .integer(9)), .init(.config, .string(path)),
        ])
        #expect(c.mqttPort == 2000)
        #expect(c.allowAnonymous == false)
        #expect(c.limits.maximumConnections == 9)
        #expect(c.hostName == "from-file")
        #expect(c.limits.maximumKeepAlive == 60)
    }

    /// A config file with `body`, and the error message resolving it gives.
    private func fileError(_ body: String, name: String = "meridian.toml", flags: [HubConfiguration.Flag] = [])
        throws -> (message: String, path: String)
    {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.appending(name)
        try body.write(toFile: path, atomically: false, encoding: .utf8)
        do {
            _ = try HubConfiguration.resolve(flags: [.init(.config, .string(path))] + flags)
        } catch {
            #expect(error.code == .invalidConfiguration)
            return (error.message, path)
        }
        Issue.record("no error for \(body)")
        return ("", path)
    }

    @Test("file errors name the file and the key", arguments: [
        ("mqtt_port = 1", #"unknown key "mqtt_port" (did you mean "mqtt-port"?)"#),
        ("colour = 1", #"unknown key "colour""#),
        ("max-connections = 1", #"unknown key "max-connections" (limits go in the limits table: limits.max-connections)"#),
        ("[limits]\nbind = \"x\"", #"unknown key "limits.bind" (bind is not a limit; put it at the top level)"#),
        ("[limits]\nmax-conections = 1", #"unknown key "limits.max-conections""#),
        ("config = \"other.toml\"", #"unknown key "config" (config is a command-line option only)"#),
        ("mqtt-port = \"1883\"", #"key "mqtt-port" must be an integer, got a string"#),
        ("mqtt-port = 1883.0", #"key "mqtt-port" must be an integer, got a number"#),
        ("mqtt-port = 70000", #"key "mqtt-port" must be between 0 and 65535, got 70000"#),
        ("https-port = -1", #"key "https-port" must be between 0 and 65535, got -1"#),
        ("allow-anonymous = \"yes\"", #"key "allow-anonymous" must be true or false, got a string"#),
        ("log-level = \"verbose\"", #"key "log-level" must be one of trace, debug, info, notice, warning, error, critical"#),
        ("durability = \"disk\"", #"key "durability" must be one of process, power"#),
        ("bind = \"\"", #"key "bind" must not be empty"#),
        ("bind = [\"a\"]", #"key "bind" must be a string, got a list"#),
        ("limits = 3", #"key "limits" must be a table of limits, got an integer"#),
        ("[limits]\nmax-connections = 0", #"key "limits.max-connections" must be positive, got 0"#),
        ("[limits]\nreceive-maximum = 65536", #"key "limits.receive-maximum" must be between 1 and 65535, got 65536"#),
        ("[limits]\nmaximum-qos = 3", #"key "limits.maximum-qos" must be between 0 and 2, got 3"#),
        ("[limits]\nconnect-timeout = 0", #"key "limits.connect-timeout" must be a positive number of seconds, got 0.0"#),
        ("[limits]\nmax-packet-size = 300000000", #"key "limits.max-packet-size" must be between 1 and 268435460, got 300000000"#),
        ("mqtt-port = ", "TOML syntax error at line 1"),
    ])
    func fileErrors(body: String, expected: String) throws {
        let (message, path) = try fileError(body)
        #expect(message == "config file \(path): \(expected)" || message.hasPrefix("config file \(path): \(expected)"))
    }

    @Test("YAML errors name the file, the key or the line")
    func yamlErrors() throws {
        var (message, path) = try fileError("mqtt-port: abc\n", name: "m.yaml")
        #expect(message == #"config file \#(path): key "mqtt-port" must be an integer, got a string"#)
        (message, path) = try fileError("tls-cert:\n", name: "m.yaml")
        #expect(message == #"config file \#(path): key "tls-cert" must be a string, got null (no value)"#)
        (message, path) = try fileError("mqtt-port: 1\nmqtt-port: 2\n", name: "m.yml")
        #expect(message == #"config file \#(path): duplicate key "mqtt-port""#)
        (message, path) = try fileError("limits:\n  max-connections: [1]\n", name: "m.yaml")
        #expect(message == #"config file \#(path): key "limits.max-connections" must be an integer, got a list"#)
        (message, path) = try fileError("mqtt-port: [1\nbind: x\n", name: "m.yaml")
        #expect(message.hasPrefix("config file \(path): YAML syntax error at line"))
        (message, path) = try fileError("- a\n- b\n", name: "m.yaml")
        #expect(message == "config file \(path): the top level must be a map of settings")
    }

    @Test("a missing or unknown-format file is an error")
    func unreadable() throws {
        #expect {
            _ = try HubConfiguration.resolve(flags: [.init(.config, .string("/nonexistent/m.toml"))])
        } throws: { error in
            "\(error)" == "cannot read config file /nonexistent/m.toml: no such file"
        }
        let (message, path) = try fileError("a: 1", name: "m.json")
        #expect(message == "config file \(path): unknown format (name it .toml, .yaml or .yml)")
    }

    @Test("flag errors name the option", arguments: [
        (HubConfiguration.Flag(.mqttPort, .integer(65536)), "option --mqtt-port must be between 0 and 65535, got 65536"),
        (.init(.logLevel, .string("loud")), "option --log-level must be one of trace, debug, info, notice, warning, error, critical"),
        (.init(.persistenceFlushInterval, .double(-1)), "option --persistence-flush-interval must be a positive number of seconds, got -1.0"),
        (.init(.maxKeepAlive, .integer(0)), "option --max-keep-alive must be between 1 and 65535, got 0"),
    ])
    func flagErrors(flag: HubConfiguration.Flag, expected: String) {
        #expect {
            _ = try HubConfiguration.resolve(flags: [flag])
        } throws: { error in
            "\(error)" == expected
        }
    }

    @Test("certificate and key come in pairs, from flags or file")
    func pairs() throws {
        for flags: [HubConfiguration.Flag] in [[.init(.tlsCert, .string("c.pem"))]] {
            #expect {
                _ = try HubConfiguration.resolve(flags: flags)
            } throws: { error in
                "\(error)" == "tls-cert is set but tls-key is not (give both or neither)"
            }
        }
        #expect {
            _ = try HubConfiguration.resolve(flags: [.init(.tlsKey, .string("k.pem"))])
        } throws: { error in
            "\(error)" == "tls-key is set but tls-cert is not (give both or neither)"
        }
        // The file gives the key, a flag the certificate: a pair.
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.appending("m.toml")
        try "tls-key = \"/k.pem\"".write(toFile: path, atomically: false, encoding: .utf8)
        let c = try HubConfiguration.resolve(flags: [.init(.config, .string(path)), .init(.tlsCert, .string("/c.pem"))])
        #expect(c.tlsCertificatePath == "/c.pem" && c.tlsKeyPath == "/k.pem")
    }

    @Test("listeners that would share a port are refused")
    func portClash() {
        #expect {
            _ = try HubConfiguration.resolve(flags: [.init(.httpPort, .integer(1883))])
        } throws: { error in
            "\(error)" == "mqtt-port and http-port are both 1883 on 127.0.0.1 and 127.0.0.1"
        }
        #expect {
            _ = try HubConfiguration.resolve(flags: [.init(.mqttsPort, .integer(1883))])
        } throws: { error in
            "\(error)" == "mqtt-port and mqtts-port are both 1883 on 127.0.0.1 and 0.0.0.0"
        }
        // Different specific addresses may share a port.
        #expect(throws: Never.self) {
            _ = try HubConfiguration.resolve(flags: [
                .init(.bind, .string("127.0.0.3")), .init(.mqttsPort, .integer(1883)),
            ])
        }
    }

    @Test("at least one listener must be enabled")
    func allDisabled() {
        #expect {
            _ = try HubConfiguration.resolve(
                flags: [Key.mqttPort, .mqttsPort, .httpPort, .httpsPort].map { .init($0, .integer(0)) })
        } throws: { error in
            "\(error)".hasPrefix("every listener is disabled")
        }
    }

    @Test("the host name must fit in a certificate", arguments: [
        ("hub.example.com", true), ("localhost", true), ("10.1.2.3", true), ("::1", true), ("fe80::1", true),
        ("under_score", false), ("has space", false), ("-lead", false), ("a..b", false), ("ümlaut", false),
    ])
    func hostNames(name: String, valid: Bool) {
        let accepted = (try? HubConfiguration.resolve(flags: [.init(.hostName, .string(name))])) != nil
        #expect(accepted == valid)
    }

    @Test("port 0 disables a listener; the rest bind where documented")
    func listenerPlan() throws {
        var c = HubConfiguration()
        #expect(c.listenerPlan.map(\.name) == ["mqtt", "mqtts", "http", "https"])
        #expect(c.listenerPlan.map(\.host) == ["127.0.0.1", "0.0.0.0", "127.0.0.1", "0.0.0.0"])
        #expect(
            c.listenerPlan.map(\.kind) == [
                .tcp, .tls, .http(webSocketPaths: ["/mqtt"]), .https(webSocketPaths: ["/mqtt", "/$iothub/websocket"]),
            ])
        #expect(
            c.listenerPlan.map { $0.logLine(boundPort: $0.port) } == [
                "listener mqtt on 127.0.0.1:1883 (MQTT)",
                "listener mqtts on 0.0.0.0:8883 (MQTT over TLS)",
                "listener http on 127.0.0.1:8080 (REST API, MQTT over WebSocket at /mqtt)",
                "listener https on 0.0.0.0:8443 (REST API, MQTT over WebSocket over TLS at /mqtt, /$iothub/websocket)",
            ])
        #expect(c.needsTLS)
        c.mqttsPort = 0
        c.httpsPort = 0
        c.bind = "::"
        #expect(c.listenerPlan.map(\.name) == ["mqtt", "http"])
        #expect(!c.needsTLS)
        c.plainBind = "::1"
        #expect(c.listenerPlan[0].logLine(boundPort: 1883) == "listener mqtt on [::1]:1883 (MQTT)")
    }
}
