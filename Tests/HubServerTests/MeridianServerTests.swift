import Foundation
import HubStorageSQLite
import HubTestKit
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import HubServer

/// What can be tested of the composition root before the broker lands (its methods are placeholders):
/// the steps before the broker, and the mapping of bind errors.
@Suite("MeridianServer")
struct MeridianServerTests {
    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func server(_ configure: (inout HubConfiguration) -> Void) -> MeridianServer {
        var configuration = HubConfiguration()
        configure(&configuration)
        return MeridianServer(configuration: configuration, logger: quiet)
    }

    @Test("the data directory is created with mode 0700, parents included")
    func dataDirectory() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.appending("a/b/data")
        try Self.server { $0.dataDirectory = path }.prepareDataDirectory()
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o777 } == 0o700)
        try Self.server { $0.dataDirectory = path }.prepareDataDirectory()  // again: fine
    }

    @Test("a data-dir that is a file is a clear error")
    func dataDirectoryIsAFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.appending("file")
        try "x".write(toFile: file, atomically: false, encoding: .utf8)
        #expect {
            try Self.server { $0.dataDirectory = file }.prepareDataDirectory()
        } throws: { error in
            "\(error)" == "cannot create data-dir \(file): not a directory"
        }
    }

    @Test("no TLS listener, no TLS material; otherwise the development CA is used")
    func tls() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let plainOnly = Self.server {
            $0.dataDirectory = dir.path
            $0.mqttsPort = 0
            $0.httpsPort = 0
        }
        #expect(try plainOnly.prepareTLS() == nil)
        #expect(!FileManager.default.fileExists(atPath: dir.appending("tls")))
        let withTLS = Self.server {
            $0.dataDirectory = dir.path
            $0.hostName = "hub.local"
        }
        #expect(try withTLS.prepareTLS() != nil)
        #expect(FileManager.default.fileExists(atPath: dir.appending("tls/ca.pem")))
        // A data directory the CA had to create is private too.
        let fresh = dir.appending("fresh")
        #expect(try Self.server { $0.dataDirectory = fresh }.prepareTLS() != nil)
        let mode = try FileManager.default.attributesOfItem(atPath: fresh)[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o777 } == 0o700)
    }

    @Test("an unreadable certificate stops start-up with its name")
    func badCertificate() throws {
        #expect {
            _ = try Self.server {
                $0.tlsCertificatePath = "/nonexistent/cert.pem"
                $0.tlsKeyPath = "/nonexistent/key.pem"
            }.prepareTLS()
        } throws: { error in
            (error as? HubServerError)?.code == .tlsMaterial
                && "\(error)" == "cannot read tls-cert /nonexistent/cert.pem: no such file or directory"
        }
    }

    @Test("the database opens in the data directory with the chosen durability")
    func database() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let server = Self.server {
            $0.dataDirectory = dir.path
            $0.durability = .power
        }
        let database = try server.openDatabase()
        #expect(database.path == dir.appending("meridian.sqlite"))
        #expect(try await database.synchronousSetting() == 2)
        try database.close()
    }

    @Test("a port in use is reported with the listener's name")
    func addressInUse() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let holder = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = holder.localAddress!.port!
        let plan = ListenerPlan(name: "mqtt", portKey: .mqttPort, host: "127.0.0.1", port: port, kind: .tcp)
        do {
            let second = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: port).get()
            try await second.close()
            Issue.record("the second bind succeeded")
        } catch {
            let mapped = HubServerError.cannotListen(error, listener: plan)
            #expect(mapped.code == .cannotListen)
            #expect(mapped.message == "cannot listen on 127.0.0.1:\(port) (mqtt): address already in use")
        }
        try await holder.close()
        try await group.shutdownGracefully()
    }

    @Test("an address this machine does not have, or cannot resolve, is reported")
    func unusableAddresses() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        for (host, expected) in [
            ("192.0.2.1", "address not available on this machine"),  // TEST-NET-1, never local
            ("no-such-host.invalid", "cannot resolve host no-such-host.invalid"),
        ] {
            let plan = ListenerPlan(name: "mqtts", portKey: .mqttsPort, host: host, port: 8883, kind: .tls)
            do {
                let channel = try await ServerBootstrap(group: group).bind(host: host, port: 0).get()
                try await channel.close()
                Issue.record("binding \(host) succeeded")
            } catch {
                let message = HubServerError.cannotListen(error, listener: plan).message
                #expect(message.hasPrefix("cannot listen on \(host):8883 (mqtts): \(expected)"), "\(message)")
            }
        }
        try await group.shutdownGracefully()
        #expect(HubServerError.errnoReason(EACCES) == "permission denied (ports below 1024 need privileges)")
        let v6 = ListenerPlan(name: "https", portKey: .httpsPort, host: "::1", port: 8443, kind: .tls)
        #expect(
            HubServerError.cannotListen(IOError(errnoCode: EADDRINUSE, reason: "bind"), listener: v6).message
                == "cannot listen on [::1]:8443 (https): address already in use")
    }
}
