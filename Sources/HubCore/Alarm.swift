/// How bad an alarm is (the Remote Monitoring / ThingsBoard scale), most severe first.
public enum AlarmSeverity: String, Sendable, Hashable, CaseIterable, Codable {
    case critical, major, minor, warning, info

    /// 5 for critical … 1 for info.
    public var rank: Int {
        switch self {
        case .critical: 5
        case .major: 4
        case .minor: 3
        case .warning: 2
        case .info: 1
        }
    }
}

/// Whether an alarm is still active and whether someone acknowledged it.
public struct AlarmStatus: Sendable, Hashable, CustomStringConvertible {
    public var cleared: Bool
    public var acknowledged: Bool

    public init(cleared: Bool, acknowledged: Bool) {
        self.cleared = cleared
        self.acknowledged = acknowledged
    }

    /// `active-unacknowledged`, `active-acknowledged`, `cleared-unacknowledged`, `cleared-acknowledged`.
    public var rawValue: String { "\(cleared ? "cleared" : "active")-\(acknowledged ? "acknowledged" : "unacknowledged")" }

    public init?(rawValue: String) {
        switch rawValue {
        case "active-unacknowledged": self.init(cleared: false, acknowledged: false)
        case "active-acknowledged": self.init(cleared: false, acknowledged: true)
        case "cleared-unacknowledged": self.init(cleared: true, acknowledged: false)
        case "cleared-acknowledged": self.init(cleared: true, acknowledged: true)
        default: return nil
        }
    }

    public static let allCases = ["active-unacknowledged", "active-acknowledged", "cleared-unacknowledged", "cleared-acknowledged"]
        .compactMap(AlarmStatus.init(rawValue:))

    public var description: String { rawValue }
}

/// An alarm: one per (source, type, device) while it is active; repeats count on it.
public struct Alarm: Sendable, Hashable {
    public var id: Int64
    /// What is wrong (`lowBattery`, the rule's or output's name).
    public var type: String
    /// What raised it (`job:drones`, `rule:overheat`).
    public var source: String
    /// The device it is about ("" when none).
    public var deviceID: String
    public var severity: AlarmSeverity
    public var status: AlarmStatus
    public var message: String?
    /// The latest occurrence's details (the row that raised it).
    public var details: JSONValue
    public var count: Int64
    public var firstOccurrence: Timestamp
    public var lastOccurrence: Timestamp
    public var acknowledgedTime: Timestamp?
    public var clearedTime: Timestamp?

    public init(
        id: Int64, type: String, source: String, deviceID: String, severity: AlarmSeverity, status: AlarmStatus, message: String?,
        details: JSONValue, count: Int64, firstOccurrence: Timestamp, lastOccurrence: Timestamp, acknowledgedTime: Timestamp? = nil,
        clearedTime: Timestamp? = nil
    ) {
        self.id = id
        self.type = type
        self.source = source
        self.deviceID = deviceID
        self.severity = severity
        self.status = status
        self.message = message
        self.details = details
        self.count = count
        self.firstOccurrence = firstOccurrence
        self.lastOccurrence = lastOccurrence
        self.acknowledgedTime = acknowledgedTime
        self.clearedTime = clearedTime
    }
}

/// One occurrence of an alarm condition. Raising it updates the active alarm of the same (source,
/// type, device) — count, last occurrence, severity, message, details — or creates a new alarm when there
/// is none (a cleared alarm stays cleared).
public struct AlarmRaise: Sendable, Hashable {
    public var type: String
    public var source: String
    public var deviceID: String
    public var severity: AlarmSeverity
    public var message: String?
    public var details: JSONValue
    public var time: Timestamp

    public init(type: String, source: String, deviceID: String, severity: AlarmSeverity, message: String? = nil, details: JSONValue = .null, time: Timestamp) {
        self.type = type
        self.source = source
        self.deviceID = deviceID
        self.severity = severity
        self.message = message
        self.details = details
        self.time = time
    }
}

/// Which alarms a listing returns; newest last occurrence first.
public struct AlarmFilter: Sendable, Hashable {
    public var status: AlarmStatus?
    /// Only alarms not cleared (whatever `status` says about acknowledgement).
    public var activeOnly = false
    /// Only cleared alarms.
    public var clearedOnly = false
    public var severity: AlarmSeverity?
    public var deviceID: String?
    public var source: String?
    public var type: String?
    /// 1…1000.
    public var limit = 100

    public init() {}

    /// Whether `alarm` passes the filter. Strings compare by their UTF-8 bytes, as SQL backends do
    /// (Swift's `==` would let `"é"` match `"e\u{301}"`).
    public func matches(_ alarm: Alarm) -> Bool {
        if let status, alarm.status != status { return false }
        if activeOnly, alarm.status.cleared { return false }
        if clearedOnly, !alarm.status.cleared { return false }
        if let severity, alarm.severity != severity { return false }
        if let deviceID, !alarm.deviceID.utf8.elementsEqual(deviceID.utf8) { return false }
        if let source, !alarm.source.utf8.elementsEqual(source.utf8) { return false }
        if let type, !alarm.type.utf8.elementsEqual(type.utf8) { return false }
        return true
    }
}
