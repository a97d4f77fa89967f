import HubCore

/// MQTT users: `{"username","rules":[{"pattern","actions":["publish","subscribe"],"allow"}],"etag"}` out;
/// `{"password","rules"}` in. The password is write-only: it is never returned or logged.
enum UserJSON {
    struct Write: Sendable {
        var password: String?
        var rules: [ACLRule]
    }

    static func encode(_ user: MQTTUser) -> JSONValue {
        .object(
            JSONObject([
                "username": .string(user.username),
                "rules": .array(user.rules.map(encode)),
                "etag": .string(user.etag),
            ]))
    }

    static func encode(_ rule: ACLRule) -> JSONValue {
        var actions: [JSONValue] = []
        if rule.actions.contains(.publish) { actions.append(.string("publish")) }
        if rule.actions.contains(.subscribe) { actions.append(.string("subscribe")) }
        return .object(JSONObject(["pattern": .string(rule.pattern), "actions": .array(actions), "allow": .bool(rule.allow)]))
    }

    /// Longest password accepted (bytes); MQTT allows 65,535 but hashing cost grows with it.
    static let maximumPasswordLength = 1024
    static let maximumRules = 1000

    static func decode(_ value: JSONValue, username: String) throws(APIError) -> Write {
        let reader = try JSONReader(value)
        try reader.allowOnly(["username", "password", "rules"])
        if let bodyName = try reader.string("username"), bodyName != username {
            throw .invalid("username in the body does not match the name in the path")
        }
        let password = try reader.string("password")
        if let password {
            guard !password.isEmpty, password.utf8.count <= maximumPasswordLength else {
                throw .invalid("password must be 1 to \(maximumPasswordLength) bytes")
            }
        }
        let items = try reader.array("rules") ?? []
        guard items.count <= maximumRules else { throw .invalid("at most \(maximumRules) rules") }
        var rules: [ACLRule] = []
        for (index, item) in items.enumerated() {
            let rule = try JSONReader(item, path: "rules[\(index)]")
            try rule.allowOnly(["pattern", "actions", "allow"])
            let pattern = try rule.requiredString("pattern")
            guard !pattern.isEmpty, pattern.utf8.count <= 65_535, !pattern.utf8.contains(0) else {
                throw .invalid("\(rule.name("pattern")) must be a non-empty topic filter")
            }
            var actions: ACLRule.Actions = []
            for action in try rule.stringArray("actions") ?? ["publish", "subscribe"] {
                switch action {
                case "publish": actions.insert(.publish)
                case "subscribe": actions.insert(.subscribe)
                default: throw .invalid("\(rule.name("actions")) may contain only publish and subscribe")
                }
            }
            guard !actions.isEmpty else { throw .invalid("\(rule.name("actions")) must not be empty") }
            rules.append(ACLRule(pattern: pattern, actions: actions, allow: try rule.bool("allow") ?? true))
        }
        return Write(password: password, rules: rules)
    }
}
