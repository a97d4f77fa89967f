import HubCore

/// One simulated drone's protocol behaviour, without I/O: when to send flight data and status, what to
/// answer to cloud-to-device commands, direct methods and desired-property patches, and when to report
/// twin properties. The connection layer calls `tick` and `receive` and writes what they return.
public struct DroneAgent: Sendable {
    /// A message to publish.
    public struct Outgoing: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            case flight, status, methodResponse, reportedPatch
        }
        public var kind: Kind
        public var topic: String
        public var payload: [UInt8]
    }

    /// What `receive` made of an incoming message (for the fleet's counters).
    public enum Handled: Sendable, Hashable {
        case command(accepted: Bool), method(status: Int), desired, twinResponse(status: Int), ignored
    }

    public private(set) var model: DroneModel
    /// Milliseconds between flight-data messages (5 s divided by the rate multiplier, or as the twin's
    /// desired `flightDataIntervalSeconds` says).
    public private(set) var flightInterval: Int64
    /// Milliseconds between status messages.
    public private(set) var statusInterval: Int64
    private let rateMultiplier: Double
    private var nextFlight: Int64
    private var nextStatus: Int64
    private var nextRequestID: UInt64 = 1
    private let telemetryTopic: String

    /// An agent whose first messages are due `offset` ms after `start` (spread the fleet over an interval).
    public init(model: DroneModel, rateMultiplier: Double, start: Int64, offset: Int64) {
        self.model = model
        self.rateMultiplier = rateMultiplier
        flightInterval = Self.interval(seconds: 5, rateMultiplier)
        statusInterval = Self.interval(seconds: 20, rateMultiplier)
        nextFlight = start + offset % flightInterval
        nextStatus = start + offset % statusInterval
        telemetryTopic = AzureDeviceTopics.telemetry(deviceID: model.deviceID)
    }

    static func interval(seconds: Double, _ multiplier: Double) -> Int64 { max(10, Int64((seconds * 1000 / multiplier).rounded())) }

    public var deviceID: String { model.deviceID }

    /// When `tick` next has something to do.
    public var nextDue: Int64 { min(nextFlight, nextStatus) }

    /// Advances the model to `now` and appends the messages due: flight data and status (unless the drone
    /// is silent; a silent drone's slots pass unsent), and a reported-properties patch when its mode changed.
    public mutating func tick(now: Int64, into out: inout [Outgoing]) {
        guard now >= nextDue || model.time < now else { return }
        model.advance(to: now)
        if now >= nextFlight {
            if !model.isSilent { out.append(Outgoing(kind: .flight, topic: telemetryTopic, payload: model.flightMessage())) }
            nextFlight = Self.advance(nextFlight, by: flightInterval, past: now)
        }
        if now >= nextStatus {
            if !model.isSilent { out.append(Outgoing(kind: .status, topic: telemetryTopic, payload: model.statusMessage())) }
            nextStatus = Self.advance(nextStatus, by: statusInterval, past: now)
        }
        if model.takeReportDue() { out.append(reportedPatch(model.reportedProperties())) }
    }

    /// The next slot after `now` (a late tick skips the slots it missed instead of bursting them).
    static func advance(_ slot: Int64, by interval: Int64, past now: Int64) -> Int64 {
        let next = slot + interval
        return next > now ? next : now + interval - (now - slot) % interval
    }

    /// What to send right after (re)connecting: the current reported properties.
    public mutating func connected(now: Int64, into out: inout [Outgoing]) {
        model.advance(to: max(model.time, now))
        _ = model.takeReportDue()
        var properties = model.reportedProperties()
        if case .object(var object) = properties {
            object["flightDataIntervalSeconds"] = .number(String(Double(flightInterval) / 1000))
            properties = .object(object)
        }
        out.append(reportedPatch(properties))
    }

    /// Handles a message from the hub; appends any answer.
    public mutating func receive(topic: String, payload: [UInt8], now: Int64, into out: inout [Outgoing]) -> Handled {
        model.advance(to: max(model.time, now))
        switch AzureDeviceTopics.parse(topic, deviceID: model.deviceID) {
        case .cloudToDevice:
            // {"command": "returnToBase", …} — what an alarm rule's c2d action sends.
            guard case .object(let body)? = try? JSONParser.parse(payload), case .string(let command)? = body["command"] else { return .ignored }
            guard command == "returnToBase" else { return .command(accepted: false) }
            let result = model.returnToBase()
            if model.takeReportDue() { out.append(reportedPatch(model.reportedProperties())) }
            return .command(accepted: result.accepted)
        case .method(let name, let requestID):
            let (status, answer) = method(name)
            out.append(Outgoing(kind: .methodResponse, topic: AzureDeviceTopics.methodResponse(status: status, requestID: requestID), payload: JSONWriter.bytes(answer)))
            if model.takeReportDue() { out.append(reportedPatch(model.reportedProperties())) }
            return .method(status: status)
        case .desiredPatch:
            guard case .object(let patch)? = try? JSONParser.parse(payload) else { return .ignored }
            if case .number(let text)? = patch["flightDataIntervalSeconds"], let seconds = Double(text), seconds >= 1, seconds <= 3600 {
                flightInterval = Self.interval(seconds: seconds, rateMultiplier)
                nextFlight = min(nextFlight, now + flightInterval)
                out.append(reportedPatch(.object(JSONObject(["flightDataIntervalSeconds": .number(text)]))))
            }
            return .desired
        case .twinResponse(let status, _):
            return .twinResponse(status: status)
        case .unknown:
            return .ignored
        }
    }

    /// A direct method's status and answer: `returnToBase` (200, or 409 when there is nothing to return
    /// from), `getStatus` (200), anything else 404.
    mutating func method(_ name: String) -> (Int, JSONValue) {
        switch name {
        case "returnToBase":
            let result = model.returnToBase()
            return (result.accepted ? 200 : 409, .object(JSONObject([
                "accepted": .bool(result.accepted), "detail": .string(result.detail), "phase": .string(model.phase.rawValue),
            ])))
        case "getStatus":
            return (200, model.statusJSON())
        default:
            return (404, .object(JSONObject(["error": .string("unknown method \(name); this drone answers returnToBase and getStatus")])))
        }
    }

    private mutating func reportedPatch(_ properties: JSONValue) -> Outgoing {
        defer { nextRequestID &+= 1 }
        return Outgoing(kind: .reportedPatch, topic: AzureDeviceTopics.reportedPatch(requestID: String(nextRequestID)), payload: JSONWriter.bytes(properties))
    }
}
