import HubTestKit
import HubAuth
import HubCore
import PropertyBased

/// The key and expiry of the protocol reference's §1.1 test vectors.
enum Vectors {
    static let key = try! SharedAccessKey(base64: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
    static let otherKey = try! SharedAccessKey(bytes: Array(repeating: 7, count: 32))
    static let expiry: Int64 = 1_700_000_000
    static let host = "myhub.azure-devices.net"
    static let deviceToken =
        "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=i%2BYmMcSSZc4KzBi6ejz3l0iL%2B2sN0CE3q6vSm837h2g%3D&se=1700000000"
    static let serviceToken =
        "SharedAccessSignature sr=myhub.azure-devices.net&sig=iIzEw6hi6GK79RY5jNXO6QeQkSL/Ax4zTmy44X2G1VY%3D&se=1700000000&skn=iothubowner"
}

func device(_ id: String, module: String? = nil) -> IdentityID {
    IdentityID(device: DeviceID(rawValue: id)!, module: module.map { ModuleID(rawValue: $0)! })
}


