import HubTestKit
import HubAuth
import HubCore
import PropertyBased
import Testing

@Suite("Device topic rights")
struct DeviceTopicRightsTests {
    let dev1 = DeviceTopicRights(identity: device("dev1"))
    let mod1 = DeviceTopicRights(identity: device("dev1", module: "mod1"))

    @Test("a device publishes telemetry, twin requests and method responses only", arguments: [
        "devices/dev1/messages/events",
        "devices/dev1/messages/events/",
        "devices/dev1/messages/events/%24.mid=m%201&%24.cid=corr1&%24.ct=application%2Fjson&alert=hi%2Fthere",
        "devices/dev1/messages/events/$.ct=application/json&$.ce=utf-8",
        "$iothub/twin/GET/?$rid=ddff3bd1-9366-4ecb-9e6c-ca889ab8e107",
        "$iothub/twin/PATCH/properties/reported/?$rid=c0ba3c7e&$version=2",
        "$iothub/twin/PATCH/properties/reported/?$version=2&$rid=1",
        "$iothub/methods/res/200/?$rid=7",
        "$iothub/methods/res/-1/?$rid=7",
    ])
    func devicePublishes(_ topic: String) {
        #expect(dev1.mayPublish(topic))
    }

    @Test("everything else is refused for a device", arguments: [
        "devices/dev2/messages/events/",
        "devices/dev10/messages/events/",
        "devices/dev/messages/events/",
        "devices/DEV1/messages/events/",
        "devices/dev1/messages/event",
        "devices/dev1/messages/eventsX",
        "devices/dev1/messages/events/a+b",
        "devices/dev1/messages/events/#",
        "devices/dev1/messages/devicebound/x",
        "devices/dev1/modules/mod1/messages/events/",
        "devices/dev1",
        "devices/+/messages/events/",
        "devices/dev1/messages/events/\u{0}",
        "/devices/dev1/messages/events/",
        "devices//dev1/messages/events/",
        "$iothub/twin/GET/",
        "$iothub/twin/GET/?",
        "$iothub/twin/GET/?$rid=",
        "$iothub/twin/GET/?rid=1",
        "$iothub/twin/GET/?$rid=1/2",
        "$iothub/twin/GET?$rid=1",
        "$iothub/twin/PATCH/properties/desired/?$rid=1",
        "$iothub/twin/res/200/?$rid=1",
        "$iothub/methods/POST/reboot/?$rid=1",
        "$iothub/methods/res/abc/?$rid=7",
        "$iothub/methods/res//?$rid=7",
        "$iothub/methods/res/12345678901/?$rid=7",
        "$iothub/methods/res/200?$rid=7",
        "$iothub/methods/res/200/?$rid=#",
        "$SYS/broker/clients",
        "#",
        "",
    ])
    func deviceRefused(_ topic: String) {
        #expect(!dev1.mayPublish(topic))
    }

    @Test("modules publish on their own telemetry topic, not the device's")
    func modulePublishes() {
        #expect(mod1.mayPublish("devices/dev1/modules/mod1/messages/events/%24.on=out1"))
        #expect(mod1.mayPublish("devices/dev1/modules/mod1/messages/events"))
        #expect(mod1.mayPublish("$iothub/twin/GET/?$rid=1"))
        #expect(!mod1.mayPublish("devices/dev1/messages/events/"))
        #expect(!mod1.mayPublish("devices/dev1/modules/mod2/messages/events/"))
        #expect(!mod1.mayPublish("devices/dev1/modules/mod1/outputs/x"))
    }

    @Test("subscriptions: exactly the four filters (three for modules)")
    func subscriptions() {
        for filter in ["devices/dev1/messages/devicebound/#", "$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#", "$iothub/methods/POST/#"] {
            #expect(dev1.maySubscribe(filter), "\(filter)")
        }
        for filter in ["$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#", "$iothub/methods/POST/#"] {
            #expect(mod1.maySubscribe(filter), "\(filter)")
        }
        let refused = [
            "devices/dev1/messages/devicebound/+", "devices/dev1/messages/devicebound", "devices/dev1/messages/devicebound/x",
            "devices/+/messages/devicebound/#", "devices/dev2/messages/devicebound/#", "devices/#", "#", "+/#", "$SYS/#",
            "$iothub/#", "$iothub/twin/res/+", "$iothub/twin/res/200", "$iothub/methods/POST/reboot", "$iothub/twin/#",
            "$share/g/devices/dev1/messages/devicebound/#", "devices/dev1/messages/events/#", "",
        ]
        for filter in refused {
            #expect(!dev1.maySubscribe(filter), "\(filter)")
        }
        #expect(!mod1.maySubscribe("devices/dev1/messages/devicebound/#"))
        #expect(!mod1.maySubscribe("devices/dev1/modules/mod1/messages/devicebound/#"))
        #expect(!mod1.maySubscribe("devices/dev1/modules/mod1/inputs/#"))
    }

    @Test("ids with punctuation are matched as whole levels, byte for byte")
    func punctuation() {
        let odd = DeviceTopicRights(identity: device("a.b$c%d"))
        #expect(odd.mayPublish("devices/a.b$c%d/messages/events/"))
        #expect(!odd.mayPublish("devices/a.b$c%25d/messages/events/"))
        #expect(!odd.mayPublish("devices/a.b$c%d.x/messages/events/"))
        #expect(odd.maySubscribe("devices/a.b$c%d/messages/devicebound/#"))
        let kelvin = DeviceTopicRights(identity: device("devK"))
        #expect(!kelvin.mayPublish("devices/dev\u{212A}/messages/events/"))
        #expect(!kelvin.maySubscribe("devices/dev\u{212A}/messages/devicebound/#"))
        #expect(!DeviceTopicRights(identity: device("a;b")).mayPublish("devices/a\u{37E}b/messages/events"))
    }

    @Test("ids with MQTT wildcard characters get no wildcard-capable topic or filter")
    func wildcardIDs() {
        // A device named "+" must not be able to subscribe to every device's C2D.
        let plus = DeviceTopicRights(identity: device("+"))
        #expect(!plus.maySubscribe("devices/+/messages/devicebound/#"))
        #expect(!plus.mayPublish("devices/+/messages/events/"))
        #expect(plus.mayPublish("$iothub/twin/GET/?$rid=1"))
        #expect(plus.maySubscribe("$iothub/methods/POST/#"))
        let hash = DeviceTopicRights(identity: device("a#b"))
        #expect(!hash.maySubscribe("devices/a#b/messages/devicebound/#"))
        #expect(!hash.mayPublish("devices/a#b/messages/events"))
        #expect(!DeviceTopicRights(identity: device("x", module: "+")).mayPublish("devices/x/modules/+/messages/events"))
    }

    // MARK: S1 property test

    /// What a generated topic is, by construction.
    enum Kind {
        /// `devices/{owner}/…/messages/events…`: the owner's telemetry.
        case telemetry(IdentityID)
        /// `devices/{d}/messages/devicebound/#`: device d's C2D filter.
        case cloudToDevice(DeviceID)
        /// A `$iothub` request every identity may publish.
        case iothubPublish
        /// A `$iothub` filter every identity may subscribe to.
        case iothubSubscribe
        /// Anything else: wildcards, near misses, other devices' spaces (the reference decides).
        case other

        var isIothubPublish: Bool {
            if case .iothubPublish = self { return true }
            return false
        }
    }

    static let idPieces = ["a", "b", "K", ".", "$", "%", "#", "+", "-", "=", "?"]

    static func randomID(_ dice: inout Dice) -> String {
        (0..<dice.int(1...3)).map { _ in dice.pick(idPieces) }.joined()
    }

    /// B is A's neighbour: the same device with or without a module, a prefix or extension of A's
    /// id, or unrelated.
    static func neighbour(of a: IdentityID, _ dice: inout Dice) -> IdentityID {
        let d = a.device.rawValue
        var b: IdentityID
        switch dice.int(0...5) {
        case 0: b = IdentityID(device: a.device, module: a.module == nil ? ModuleID(rawValue: randomID(&dice))! : nil)
        case 1: b = IdentityID(device: a.device, module: ModuleID(rawValue: randomID(&dice))!)
        case 2: b = IdentityID(device: DeviceID(rawValue: d + randomID(&dice))!, module: a.module)
        case 3: b = IdentityID(device: DeviceID(rawValue: d.count > 1 ? String(d.dropLast()) : d + "x")!, module: a.module)
        case 4: b = IdentityID(device: DeviceID(rawValue: randomID(&dice))!, module: dice.bool() ? ModuleID(rawValue: randomID(&dice))! : nil)
        default: b = IdentityID(device: a.device, module: a.module.map { ModuleID(rawValue: $0.rawValue + "x")! })
        }
        if b == a { b = IdentityID(device: DeviceID(rawValue: d + "z")!, module: a.module) }
        return b
    }

    static func telemetryPrefix(_ id: IdentityID) -> String {
        id.module.map { "devices/\(id.device.rawValue)/modules/\($0.rawValue)/" } ?? "devices/\(id.device.rawValue)/"
    }

    static func randomTopic(owner: IdentityID, _ dice: inout Dice) -> (String, Kind) {
        let prefix = telemetryPrefix(owner)
        let d = owner.device.rawValue
        switch dice.int(0...11) {
        case 0, 1:
            return (prefix + "messages/events" + dice.pick(["", "/", "/%24.mid=1&k=v", "/$.ct=application/json", "/a/b", "/x=%2F"]), .telemetry(owner))
        case 2:
            return ("devices/\(d)/messages/devicebound/#", .cloudToDevice(owner.device))
        case 3:
            return (dice.pick(["$iothub/twin/GET/?$rid=1", "$iothub/twin/PATCH/properties/reported/?$rid=x&$version=4", "$iothub/methods/res/500/?$rid=z"]), .iothubPublish)
        case 4:
            return (dice.pick(DeviceTopicRightsTests.iothubFilters), .iothubSubscribe)
        case 5:
            // Wildcards and other devices' spaces.
            return (dice.pick(["#", "+", "devices/#", "devices/+/messages/events", "devices/+/messages/devicebound/#", "$SYS/#", "$iothub/#", "+/+/messages/events/"]), .other)
        case 6:
            return ("devices/\(d)/modules/\(owner.module?.rawValue ?? "m")/inputs/#", .other)
        case 7:
            // Near misses of the owner's own topics.
            let miss = [
                prefix + "messages/event", prefix + "messages/events/#", prefix + "messages/events/+",
                "devices/\(d)/messages/devicebound/+", "devices/\(d)/messages/devicebound", prefix + "messages/devicebound/x",
                "devices/\(d)x/" + "messages/events", prefix.uppercased() + "messages/events", "/" + prefix + "messages/events",
                prefix.replacingOccurrences("K", "\u{212A}") + "messages/events", prefix + "messages/events/\u{0}",
            ]
            return (dice.pick(miss), .other)
        case 8:
            return (dice.pick(["$iothub/twin/GET/", "$iothub/twin/GET/?$rid=", "$iothub/methods/res/x/?$rid=1", "$iothub/twin/res/+", "$iothub/methods/POST/m/?$rid=1"]), .other)
        case 9:
            // The module topic of the owner's device (for a device owner) or the device topic (for a module).
            if owner.module != nil {
                return ("devices/\(d)/messages/events/", .telemetry(IdentityID(device: owner.device)))
            } else {
                let module = ModuleID(rawValue: randomID(&dice))!
                return ("devices/\(d)/modules/\(module.rawValue)/messages/events/", .telemetry(IdentityID(device: owner.device, module: module)))
            }
        default:
            return (prefix + "messages/events/", .telemetry(owner))
        }
    }

    static let iothubFilters = ["$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#", "$iothub/methods/POST/#"]

    static func sameIdentity(_ x: IdentityID, _ y: IdentityID) -> Bool {
        x.device.rawValue.utf8.elementsEqual(y.device.rawValue.utf8)
            && (x.module?.rawValue.utf8).map { m in (y.module?.rawValue.utf8).map { m.elementsEqual($0) } ?? false } ?? (y.module == nil)
    }

    /// A's telemetry topics, from the grammar of §2.2 written as set membership: exactly
    /// `{prefix}messages/events`, or that plus `/` and a bag without `+`, `#` or NUL.
    static func referenceTelemetry(_ a: IdentityID, _ topic: String) -> Bool {
        let base = Array((telemetryPrefix(a) + "messages/events").utf8)
        let bytes = Array(topic.utf8)
        // Not a valid topic name at all: wildcard characters or NUL anywhere (ids included).
        if bytes.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") || $0 == 0 }) { return false }
        return bytes.elementsEqual(base) || bytes.starts(with: base + [UInt8(ascii: "/")])
    }

    /// A's filters: its C2D filter (devices whose id has no wildcard character) and the three
    /// `$iothub` filters, byte-exact.
    static func referenceSubscribe(_ a: IdentityID, _ topic: String) -> Bool {
        var filters = iothubFilters
        if a.module == nil, !a.device.rawValue.contains("+"), !a.device.rawValue.contains("#") { filters.append("devices/\(a.device.rawValue)/messages/devicebound/#") }
        return filters.contains { $0.utf8.elementsEqual(topic.utf8) }
    }

    @Test("S1: for 10,000 random (A, B, topic), A's rights hold exactly on A's namespace and never on B's")
    func s1Property() async {
        let input = Dice.generator { dice -> (IdentityID, IdentityID, String, Kind) in
            let a = IdentityID(device: DeviceID(rawValue: Self.randomID(&dice))!, module: dice.bool(0.3) ? ModuleID(rawValue: Self.randomID(&dice))! : nil)
            let b = Self.neighbour(of: a, &dice)
            let (topic, kind) = Self.randomTopic(owner: dice.bool() ? a : b, &dice)
            return (a, b, topic, kind)
        }
        await propertyCheck(count: 10_000, input: input) { sample in
            let (a, b, topic, kind) = sample
            let expectedPublish = Self.referenceTelemetry(a, topic) || kind.isIothubPublish
            let expectedSubscribe = Self.referenceSubscribe(a, topic)
            // The references agree with what the generator built.
            switch kind {
            case .telemetry(let owner):
                let validName = !topic.contains("+") && !topic.contains("#")
                #expect(Self.referenceTelemetry(a, topic) == (Self.sameIdentity(owner, a) && validName), "\(topic)")
            case .cloudToDevice(let owner):
                let wildcardID = owner.rawValue.contains("+") || owner.rawValue.contains("#")
                #expect(expectedSubscribe == (a.module == nil && !wildcardID && owner.rawValue.utf8.elementsEqual(a.device.rawValue.utf8)), "\(topic)")
            case .iothubSubscribe:
                #expect(expectedSubscribe)
            case .iothubPublish, .other:
                break
            }
            let rights = DeviceTopicRights(identity: a)
            #expect(rights.mayPublish(topic) == expectedPublish, "A \(a) B \(b) publish \(topic)")
            #expect(rights.maySubscribe(topic) == expectedSubscribe, "A \(a) B \(b) subscribe \(topic)")
            // Never B's: none of B's own topics, and no granted filter of A reaches B's C2D.
            let bTelemetry = Self.telemetryPrefix(b) + "messages/events/"
            #expect(!rights.mayPublish(bTelemetry), "A \(a) published as B \(b)")
            let bC2D = "devices/\(b.device.rawValue)/messages/devicebound/%24.to=x"
            if rights.maySubscribe(topic), !b.device.rawValue.utf8.elementsEqual(a.device.rawValue.utf8) {
                #expect(!ReferenceMatcher.matches(filter: topic, topic: bC2D), "A \(a) could observe B \(b) via \(topic)")
            }
            // Positive control: B has rights in its own namespace (when its ids make a valid topic).
            if !bTelemetry.contains("+") && !bTelemetry.contains("#") {
                #expect(DeviceTopicRights(identity: b).mayPublish(bTelemetry))
            }
        }
    }
}
