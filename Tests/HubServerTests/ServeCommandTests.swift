import ArgumentParser
import HubCLI
import HubServer
import Testing

@Suite("meridian command line")
struct ServeCommandTests {
    @Test("serve parses every option into settings")
    func parses() throws {
        let command = try MeridianCommand.parseAsRoot([
            "serve", "--data-dir", "/tmp/m", "--bind", "::", "--plain-bind", "127.0.0.9", "--mqtt-port", "0",
            "--mqtts-port", "1", "--http-port", "2", "--https-port", "3", "--tls-cert", "c.pem", "--tls-key", "k.pem",
            "--allow-anonymous", "--host-name", "hub", "--log-level", "trace", "--durability", "power",
            "--event-loop-threads", "3", "--host-aliases", "hub.example", "--host-aliases", "10.0.0.1",
            "--ip-filter", "deny 10.1.0.0/16", "--ip-filter", "allow 10.0.0.0/8",
            "--owner-key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            "--master-key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "--connect-rate", "50", "--registry-rate", "60", "--device-rate", "70",
            "--event-partitions", "2", "--event-retention-hours", "48", "--event-retention-bytes", "1000000",
            "--event-batch-delay-ms", "2", "--event-batch-records", "128",
            "--timeseries-retention-days", "90", "--timeseries-window-seconds", "60",
            "--timeseries-retention-rule", "test-* * 2", "--timeseries-retention-rule", "drone-?? velocity 365",
            "--timeseries-tag-field", "motor", "--timeseries-tag-field", "side", "--timeseries-ignore-field", "serial",
            "--timeseries-max-strings", "500",
            "--max-connections", "10", "--max-packet-size", "2048", "--max-user-properties", "4",
            "--connect-timeout", "1.5", "--receive-maximum", "20", "--topic-alias-maximum", "0", "--maximum-qos", "1",
            "--max-subscriptions-per-session", "5", "--max-topic-levels", "6", "--max-queued-messages", "7",
            "--max-queued-bytes", "8", "--max-session-expiry", "9", "--max-keep-alive", "11",
            "--max-retained-messages", "12", "--persistence-flush-interval", "0.5",
        ])
        let serve = try #require(command as? ServeCommand)
        #expect(Set(serve.flags.map(\.key)) == Set(HubConfiguration.Key.allCases).subtracting([.config]))
        let c = try serve.resolveConfiguration()
        #expect(c.dataDirectory == "/tmp/m" && c.bind == "::" && c.plainBind == "127.0.0.9")
        #expect(c.mqttPort == 0 && c.mqttsPort == 1 && c.httpPort == 2 && c.httpsPort == 3)
        #expect(c.tlsCertificatePath == "c.pem" && c.tlsKeyPath == "k.pem")
        #expect(c.allowAnonymous && c.hostName == "hub" && c.logLevel == .trace && c.durability == .power)
        #expect(c.eventLoopThreads == 3 && c.effectiveEventLoopThreads == 3)
        #expect(c.hostNames == ["hub", "hub.example", "10.0.0.1"])
        #expect(c.ipFilter.rules.count == 2 && !c.ipFilter.allows([10, 1, 0, 9]) && c.ipFilter.allows([10, 2, 0, 9]))
        #expect(c.ownerKey?.bytes == Array(0..<32) && c.masterKey == Array(0..<32))
        #expect(c.connectRate == 50 && c.registryRate == 60 && c.deviceRate == 70)
        #expect(c.eventPartitions == 2 && c.eventRetentionHours == 48 && c.eventRetentionBytes == 1_000_000)
        #expect(c.timeseriesTagFields == ["motor", "side"] && c.timeseriesIgnoredFields == ["serial"] && c.timeseriesMaxStrings == 500)
        #expect(c.eventBatchDelayMs == 2 && c.eventBatchRecords == 128)
        #expect(c.timeseriesRetentionDays == 90 && c.timeseriesWindowSeconds == 60)
        #expect(c.timeseriesRetentionRules.map { "\($0.devicePattern) \($0.measurePattern) \($0.days)" } == ["test-* * 2", "drone-?? velocity 365"])
        #expect(c.limits.maximumConnections == 10 && c.limits.maximumPacketSize == 2048)
        #expect(c.limits.maximumUserProperties == 4 && c.limits.connectTimeoutSeconds == 1.5)
        #expect(c.limits.receiveMaximum == 20 && c.limits.topicAliasMaximum == 0 && c.limits.maximumQoS == .atLeastOnce)
        #expect(c.limits.maximumSubscriptionsPerSession == 5 && c.limits.maximumTopicLevels == 6)
        #expect(c.limits.maximumQueuedMessages == 7 && c.limits.maximumQueuedBytes == 8)
        #expect(c.limits.maximumSessionExpiryInterval == 9 && c.limits.maximumKeepAlive == 11)
        #expect(c.limits.maximumRetainedMessages == 12 && c.limits.persistenceFlushInterval == 0.5)
    }

    @Test("no options means the defaults; --no-allow-anonymous works")
    func defaults() throws {
        let serve = try #require(try MeridianCommand.parseAsRoot(["serve"]) as? ServeCommand)
        #expect(serve.flags.isEmpty)
        let resolved = try serve.resolveConfiguration()
        #expect(resolved == HubConfiguration(), "\(resolved) vs \(HubConfiguration())")
        let denied = try #require(try MeridianCommand.parseAsRoot(["serve", "--no-allow-anonymous"]) as? ServeCommand)
        #expect(denied.flags == [.init(.allowAnonymous, .bool(false))])
    }

    @Test("serve --help documents every option with its default")
    func help() throws {
        // The root parses `serve --help` into the built-in help command; the subcommand's own parser
        // reports it as a clean exit.
        let parsed = try MeridianCommand.parseAsRoot(["serve", "--help"])
        #expect(!(parsed is ServeCommand))
        #expect {
            _ = try ServeCommand.parse(["--help"])
        } throws: { error in
            ServeCommand.exitCode(for: error) == .success
        }
        let help = MeridianCommand.helpMessage(for: ServeCommand.self, columns: 200)
        for key in HubConfiguration.Key.allCases {
            #expect(help.contains("--\(key.rawValue)"), "--\(key.rawValue) missing from help")
        }
        for text in [
            "(default: ./meridian-data)", "(default: 0.0.0.0)", "(default: 127.0.0.1)", "(default: 1883)",
            "(default: 8883)", "(default: 8080)", "(default: 8443)", "(default: false)", "(default: localhost)",
            "(default: info)", "(default: process)", "(default: 50000)", "(default: 10)",
        ] {
            #expect(help.contains(text), "help lacks \(text)")
        }
    }

    @Test("--version prints the version")
    func version() {
        #expect {
            _ = try MeridianCommand.parseAsRoot(["--version"])
        } throws: { error in
            MeridianCommand.message(for: error) == MeridianVersion.current
                && MeridianCommand.exitCode(for: error) == .success
        }
    }

    @Test("bad options fail through the argument parser with a usage error", arguments: [
        (["serve", "--bogus"], "Unknown option '--bogus'"),
        (["serve", "--mqtt-port", "abc"], "mqtt-port"),
        (["serve", "--mqtt-port", "70000"], "option --mqtt-port must be between 0 and 65535, got 70000"),
        (["serve", "--log-level", "loud"], "option --log-level must be one of"),
        (["serve", "--connect-timeout", "0"], "option --connect-timeout must be a positive number of seconds"),
        (["serve", "--durability"], "Missing value for '--durability"),
        (["frobnicate"], "Unexpected argument 'frobnicate'"),
    ])
    func badOptions(arguments: [String], expected: String) {
        #expect {
            _ = try MeridianCommand.parseAsRoot(arguments)
        } throws: { error in
            let code = MeridianCommand.exitCode(for: error)
            let message = MeridianCommand.message(for: error)
            return code != .success && code == .validationFailure && message.contains(expected)
        }
    }

    @Test("failures map to distinct exit codes")
    func exitCodes() {
        #expect(ServeCommand.exitCode(for: HubServerError(.invalidConfiguration, "x")).rawValue == 78)
        #expect(ServeCommand.exitCode(for: HubServerError(.tlsMaterial, "x")).rawValue == 78)
        #expect(ServeCommand.exitCode(for: HubServerError(.cannotListen, "x")).rawValue == 1)
        #expect(ServeCommand.exitCode(for: HubServerError(.storage, "x")).rawValue == 1)
    }
}

/// Every command of the CLI is well formed: its options parse (a duplicated option name, for one,
/// would make the argument parser refuse the command at run time).
@Suite("meridian command tree")
struct CommandTreeTests {
    static func paths(_ command: any ParsableCommand.Type, prefix: [String] = []) -> [[String]] {
        let name = command.configuration.commandName ?? String(describing: command).lowercased()
        let here = prefix.isEmpty ? [] : prefix + [name]
        let children = command.configuration.subcommands.flatMap { paths($0, prefix: prefix.isEmpty ? [""] : here) }
        return (here.isEmpty ? [] : [here]) + children
    }

    @Test("every subcommand answers --help")
    func help() throws {
        let all = Self.paths(MeridianCommand.self).map { Array($0.drop { $0.isEmpty }) }
        #expect(all.contains(["device", "create"]) && all.contains(["policy", "connection-string"]) && all.contains(["ca", "verify"]))
        for path in all {
            do {
                _ = try MeridianCommand.parseAsRoot(path + ["--help"])
            } catch {
                #expect(MeridianCommand.exitCode(for: error) == .success, "\(path): \(MeridianCommand.message(for: error))")
            }
        }
    }
}
