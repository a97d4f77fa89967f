/// A token's signature is a bearer credential until `se`: descriptions, debug descriptions and mirrors
/// (`dump`, debuggers) show the resource, expiry and policy name, never the signature (S8).
extension SASToken: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "SASToken(sr: \(resource), se: \(expiry)\(keyName.map { ", skn: \($0)" } ?? ""), sig: <redacted>)"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["resource": resource, "expiry": expiry, "keyName": keyName as Any, "signature": "<redacted>"], displayStyle: .struct)
    }
}
