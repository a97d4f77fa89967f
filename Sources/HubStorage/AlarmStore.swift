import HubCore
import Synchronization

/// Where alarms are kept.
public protocol AlarmStore: Sendable {
    /// Updates the active alarm of the same (source, type, device), or creates one; returns it.
    /// Details nested deeper than `JSONParser.maximumDepth` are refused (`AlarmRaise.checkDetails`).
    func raise(_ raise: AlarmRaise) async throws(StorageError) -> Alarm
    /// Several raises, in order, at once where the backend can (one transaction); nothing is stored when
    /// one of them is refused.
    func raise(_ raises: [AlarmRaise]) async throws(StorageError) -> [Alarm]
    func alarm(_ id: Int64) async throws(StorageError) -> Alarm?
    /// Matching alarms, newest last occurrence first, at most `filter.limit`.
    func alarms(_ filter: AlarmFilter) async throws(StorageError) -> [Alarm]
    /// Marks an alarm acknowledged (idempotent); nil when there is no such alarm.
    func acknowledge(_ id: Int64, at time: Timestamp) async throws(StorageError) -> Alarm?
    /// Marks an alarm cleared (idempotent); a later raise of the same key creates a new alarm.
    func clear(_ id: Int64, at time: Timestamp) async throws(StorageError) -> Alarm?
    /// Active (not cleared) alarms by severity.
    func counts() async throws(StorageError) -> [AlarmSeverity: Int]
    /// Alarms first raised in [from, to), per device id (cleared or not), for reports.
    func raisedCounts(from: Timestamp, to: Timestamp) async throws(StorageError) -> [String: Int]
}

extension AlarmRaise {
    /// Refuses details nested deeper than `JSONParser.maximumDepth` containers with `.conflict`: a
    /// backend that keeps them as JSON text could not read them back, and every backend must agree.
    public func checkDetails() throws(StorageError) {
        if Self.nestsDeeper(details, than: JSONParser.maximumDepth) {
            throw StorageError(.conflict, "alarm details nest deeper than \(JSONParser.maximumDepth) levels")
        }
    }

    /// Whether `value` holds more than `limit` nested containers; recurses at most `limit + 1` levels.
    private static func nestsDeeper(_ value: JSONValue, than limit: Int) -> Bool {
        switch value {
        case .array(let elements): limit == 0 || elements.contains { nestsDeeper($0, than: limit - 1) }
        case .object(let object): limit == 0 || object.members.contains { nestsDeeper($0.value, than: limit - 1) }
        case .null, .bool, .number, .string: false
        }
    }
}

extension AlarmStore {
    public func raise(_ raises: [AlarmRaise]) async throws(StorageError) -> [Alarm] {
        for raise in raises { try raise.checkDetails() }
        var alarms: [Alarm] = []
        for raise in raises { alarms.append(try await self.raise(raise)) }
        return alarms
    }
}

extension Alarm {
    /// The alarm a raise creates when no active one matches.
    public init(id: Int64, raise: AlarmRaise) {
        self.init(
            id: id, type: raise.type, source: raise.source, deviceID: raise.deviceID, severity: raise.severity,
            status: AlarmStatus(cleared: false, acknowledged: false), message: raise.message, details: raise.details, count: 1,
            firstOccurrence: raise.time, lastOccurrence: raise.time)
    }

    /// This alarm after one more occurrence.
    public func repeated(by raise: AlarmRaise) -> Alarm {
        var alarm = self
        alarm.count += 1
        alarm.lastOccurrence = Swift.max(lastOccurrence, raise.time)
        alarm.severity = raise.severity
        alarm.message = raise.message
        alarm.details = raise.details
        return alarm
    }
}

/// The reference store (tests, and a hub without a database).
public final class InMemoryAlarmStore: AlarmStore {
    /// An alarm's (source, type, device), byte-exact like a SQL backend's key.
    private struct Key: Hashable {
        var source: ExactKey
        var type: ExactKey
        var deviceID: ExactKey

        init(source: String, type: String, deviceID: String) {
            self.source = ExactKey(source)
            self.type = ExactKey(type)
            self.deviceID = ExactKey(deviceID)
        }
    }

    private struct State {
        var nextID: Int64 = 1
        var alarms: [Int64: Alarm] = [:]
        /// The id of each key's active (not cleared) alarm, so a raise does not scan every alarm.
        var active: [Key: Int64] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public func raise(_ raise: AlarmRaise) async throws(StorageError) -> Alarm {
        try raise.checkDetails()
        let key = Key(source: raise.source, type: raise.type, deviceID: raise.deviceID)
        return state.withLock { state in
            if let id = state.active[key], let active = state.alarms[id] {
                let updated = active.repeated(by: raise)
                state.alarms[id] = updated
                return updated
            }
            let alarm = Alarm(id: state.nextID, raise: raise)
            state.nextID += 1
            state.alarms[alarm.id] = alarm
            state.active[key] = alarm.id
            return alarm
        }
    }

    public func alarm(_ id: Int64) async throws(StorageError) -> Alarm? { state.withLock { $0.alarms[id] } }

    public func alarms(_ filter: AlarmFilter) async throws(StorageError) -> [Alarm] {
        state.withLock { state in
            Array(state.alarms.values.filter(filter.matches).sorted {
                ($0.lastOccurrence, $0.id) > ($1.lastOccurrence, $1.id)
            }.prefix(max(1, min(filter.limit, 1000))))
        }
    }

    public func acknowledge(_ id: Int64, at time: Timestamp) async throws(StorageError) -> Alarm? {
        state.withLock { state in
            guard var alarm = state.alarms[id] else { return nil }
            if !alarm.status.acknowledged {
                alarm.status.acknowledged = true
                alarm.acknowledgedTime = time
                state.alarms[id] = alarm
            }
            return alarm
        }
    }

    public func clear(_ id: Int64, at time: Timestamp) async throws(StorageError) -> Alarm? {
        state.withLock { state in
            guard var alarm = state.alarms[id] else { return nil }
            if !alarm.status.cleared {
                alarm.status.cleared = true
                alarm.clearedTime = time
                state.alarms[id] = alarm
                state.active[Key(source: alarm.source, type: alarm.type, deviceID: alarm.deviceID)] = nil
            }
            return alarm
        }
    }

    public func counts() async throws(StorageError) -> [AlarmSeverity: Int] {
        state.withLock { state in
            var counts: [AlarmSeverity: Int] = [:]
            for alarm in state.alarms.values where !alarm.status.cleared { counts[alarm.severity, default: 0] += 1 }
            return counts
        }
    }

    public func raisedCounts(from: Timestamp, to: Timestamp) async throws(StorageError) -> [String: Int] {
        state.withLock { state in
            var counts: [String: Int] = [:]
            for alarm in state.alarms.values where alarm.firstOccurrence >= from && alarm.firstOccurrence < to {
                counts[alarm.deviceID, default: 0] += 1
            }
            return counts
        }
    }
}
