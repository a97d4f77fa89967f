@testable import HubAccess
import HubCore
import Testing

@Suite("Azure device usernames")
struct AzureDeviceUsernameTests {
    @Test("the SDK's forms parse, with percent-decoded parameters")
    func sdkForms() throws {
        let u = try #require(AzureDeviceUsername(
            "localhost/dev1/?api-version=2019-10-01&DeviceClientType=azure-iot-device-iothub-py%2F2.14.0%28x%29", clientID: "dev1"))
        #expect(u.host == "localhost" && u.identity == "dev1")
        #expect(u.parameters["api-version"] == "2019-10-01")
        #expect(u.parameters["DeviceClientType"] == "azure-iot-device-iothub-py/2.14.0(x)")
        #expect(u.identityID == IdentityID(device: DeviceID(rawValue: "dev1")!))
        let m = try #require(AzureDeviceUsername("hub.example:8883/dev1/mod1/?api-version=2019-10-01", clientID: "dev1/mod1"))
        #expect(m.identityID == IdentityID(device: DeviceID(rawValue: "dev1")!, module: ModuleID(rawValue: "mod1")!))
        let pnp = try #require(AzureDeviceUsername("h/d/?api-version=2020-09-30&model-id=dtmi%3Acom%3Aexample%3AThermostat%3B1", clientID: "d"))
        #expect(pnp.parameters["model-id"] == "dtmi:com:example:Thermostat;1")
    }

    @Test("lenient forms: no '?', no query, trailing slash")
    func lenient() {
        #expect(AzureDeviceUsername("h/dev1/api-version=2016-11-14", clientID: "dev1")?.parameters["api-version"] == "2016-11-14")
        #expect(AzureDeviceUsername("h/dev1", clientID: "dev1")?.parameters.isEmpty == true)
        #expect(AzureDeviceUsername("h/dev1/", clientID: "dev1") != nil)
    }

    @Test("device ids with query-like characters are taken verbatim from the client id")
    func oddIDs() throws {
        let u = try #require(AzureDeviceUsername("h/a?b=c;d/?api-version=1", clientID: "a?b=c;d"))
        #expect(u.identity == "a?b=c;d" && u.parameters["api-version"] == "1")
        #expect(u.identityID?.device.rawValue == "a?b=c;d")
    }

    @Test("usernames that do not name the client id are not device usernames", arguments: [
        ("h/dev2/?api-version=1", "dev1"), ("dev1", "dev1"), ("/dev1/?x=1", "dev1"), ("h/dev1x/?a=1", "dev1"), ("h/dev1/other", "dev1"),
    ])
    func mismatches(username: String, clientID: String) {
        #expect(AzureDeviceUsername(username, clientID: clientID) == nil)
    }

    @Test("an identity that is not a valid device or device/module id has no IdentityID")
    func invalidIdentities() {
        #expect(AzureDeviceUsername("h/a b/?x=1", clientID: "a b")?.identityID == nil)
        #expect(AzureDeviceUsername("h/a/b/c/?x=1", clientID: "a/b/c")?.identityID == nil)
    }
}
