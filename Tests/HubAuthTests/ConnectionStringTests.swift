import HubAuth
import HubCore
import Testing

@Suite("Connection strings")
struct ConnectionStringTests {
    static let key = Vectors.key.base64

    @Test("device, module, service and gateway strings parse and print canonically")
    func canonical() throws {
        let deviceText = "HostName=myhub.azure-devices.net;DeviceId=dev1;SharedAccessKey=\(Self.key)"
        let device = try ConnectionString.parse(deviceText)
        #expect(device.hostName == "myhub.azure-devices.net")
        #expect(device.deviceID == "dev1")
        #expect(device.sharedAccessKey == Vectors.key)
        #expect(device.description == deviceText)

        let serviceText = "HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=\(Self.key)"
        let service = try ConnectionString.parse(serviceText)
        #expect(service.sharedAccessKeyName == "iothubowner")
        #expect(service.deviceID == nil)
        #expect(service.description == serviceText)

        let moduleText = "HostName=h;DeviceId=d;ModuleId=m;SharedAccessKey=\(Self.key);GatewayHostName=edge.local"
        let module = try ConnectionString.parse(moduleText)
        #expect(module.moduleID == "m")
        #expect(module.gatewayHostName == "edge.local")
        #expect(module.description == moduleText)
    }

    @Test("keys are case-insensitive; the output uses Azure's spelling and order")
    func caseInsensitiveKeys() throws {
        let parsed = try ConnectionString.parse("sharedaccesskey=\(Self.key);DEVICEID=dev1;hostname=h")
        #expect(parsed.description == "HostName=h;DeviceId=dev1;SharedAccessKey=\(Self.key)")
    }

    @Test("values may contain '=' (split on the first one)")
    func valuesWithEquals() throws {
        let sas = "SharedAccessSignature sr=h%2Fdevices%2Fd&sig=abc%3D&se=1"
        let parsed = try ConnectionString.parse("HostName=h;DeviceId=a=b;SharedAccessSignature=\(sas)")
        #expect(parsed.deviceID == "a=b")
        #expect(parsed.sharedAccessSignature == sas)
        #expect(try ConnectionString.parse(parsed.description) == parsed)
    }

    @Test("x509=true in any case; unknown keys and empty parts are ignored")
    func lenient() throws {
        #expect(try ConnectionString.parse("HostName=h;DeviceId=d;x509=true").x509)
        #expect(try ConnectionString.parse("HostName=h;DeviceId=d;X509=TRUE").x509)
        #expect(try !ConnectionString.parse("HostName=h;DeviceId=d;x509=false").x509)
        #expect(try ConnectionString.parse("HostName=h;DeviceId=d;x509=true").description == "HostName=h;DeviceId=d;x509=true")
        let odd = try ConnectionString.parse(";HostName=h;;Foo=bar;DeviceId=d;Unknown=;")
        #expect(odd == ConnectionString(hostName: "h", deviceID: "d"))
    }

    @Test("refusals", arguments: [
        "",
        "DeviceId=d;SharedAccessKey=\(key)",
        "HostName=h;DeviceId=d;SharedAccessKey=not base64!",
        "HostName=h;DeviceId=d;SharedAccessKey=AAAA",
        "HostName=h;DeviceId=d;SharedAccessKey=\(key)x",
        "HostName=h;HostName=i",
        "hostname=h;HOSTNAME=i",
        "HostName=h;DeviceId",
        "HostName=",
        "HostName=h;DeviceId=",
        "HostName=h;x509=yes",
        "HostName=h;ModuleId=m",
        "just text",
    ])
    func refusals(_ text: String) {
        #expect(throws: ConnectionStringError.self) { try ConnectionString.parse(text) }
    }

    @Test("errors never echo the key")
    func errorsDoNotEchoKeys() {
        let secret = "c2VjcmV0LWtleS1ieXRlcy0xMjM0NTY3ODkw%%%"
        do {
            _ = try ConnectionString.parse("HostName=h;DeviceId=d;SharedAccessKey=\(secret)")
            Issue.record("bad key accepted")
        } catch {
            #expect(!error.description.contains("c2VjcmV0"))
        }
    }

    @Test("parse(description) round-trips")
    func roundTrip() throws {
        let values = [
            ConnectionString(hostName: "h", deviceID: "d", sharedAccessKey: Vectors.key),
            ConnectionString(hostName: "h:8883", deviceID: "d", moduleID: "m", sharedAccessKey: Vectors.key, gatewayHostName: "g"),
            ConnectionString(hostName: "h", sharedAccessKeyName: "service", sharedAccessKey: Vectors.otherKey),
            ConnectionString(hostName: "h", deviceID: "d", x509: true),
        ]
        for value in values {
            #expect(try ConnectionString.parse(value.description) == value)
        }
    }
}
