import HubCore

/// What a drone sends: the two telemetry messages of the Drone Delivery reference scenario, its reported
/// twin properties and the `getStatus` answer. Built only when asked for, never per step.
extension DroneModel {
    /// `sensorType` of flight data.
    public static let flightSensorType = "drone-event-sensor;v1"
    /// `sensorType` of operating status.
    public static let statusSensorType = "drone-state-sensor;v1"
    /// How often a drone sends flight data, in milliseconds.
    public static let flightInterval: Int64 = 5_000
    /// How often a drone sends operating status, in milliseconds.
    public static let statusInterval: Int64 = 20_000

    /// The measured acceleration in m/s²: the change of ground speed over the last second plus a little
    /// seeded vibration noise (0…0.16) in flight; 0 on the ground.
    public var acceleration: Double {
        guard phase.isAirborne else { return 0 }
        return max(0, speedChange + 0.08 * (1 + noise(1)))
    }

    /// The measured engine temperature in °C: the lagged engine temperature plus seeded sensor noise
    /// (±1.5 in flight, ±0.3 on the ground).
    public var temperature: Double {
        engineTemp + (phase.isAirborne ? 1.5 : 0.3) * noise(2)
    }

    /// "ok" at 0.30 and above, "low" from 0.10, "critical" below, judged on the level as sent (2 decimals)
    /// so a message never says "ok" next to "0.29".
    public var batteryStatus: String {
        let percent = (min(1, max(0, batteryLevel)) * 100).rounded()
        return percent >= 30 ? "ok" : percent >= 10 ? "low" : "critical"
    }

    /// Flight data, UTF-8 JSON, members in this order:
    /// `{"occurrenceUtcTime":"04/17/2018 20:25:09 +00:00","deviceId":"Simulated.drone-01.35","deliveryId":"…",
    /// "sensorType":"drone-event-sensor;v1","velocity":"58.08","acceleration":"2.52",
    /// "position":"60.631945|-99.579919|504.99","flightStatus":"1"}`: velocity in km/h, acceleration in m/s²,
    /// position as latitude|longitude|altitude (m ASL); flightStatus "1" in the air, "0" on the ground.
    public func flightMessage() -> [UInt8] {
        let position = DroneFormat.fixed(position.latitude, decimals: 6) + "|" + DroneFormat.fixed(position.longitude, decimals: 6)
            + "|" + DroneFormat.fixed(altitude, decimals: 2)
        return JSONWriter.bytes(.object(JSONObject([
            "occurrenceUtcTime": .string(DroneFormat.occurrenceTime(time)),
            "deviceId": .string(deviceID),
            "deliveryId": .string(deliveryID),
            "sensorType": .string(Self.flightSensorType),
            "velocity": .string(DroneFormat.fixed(velocity, decimals: 2)),
            "acceleration": .string(DroneFormat.fixed(acceleration, decimals: 2)),
            "position": .string(position),
            "flightStatus": .string(phase.isAirborne ? "1" : "0"),
        ])))
    }

    /// Operating status, UTF-8 JSON, members in this order:
    /// `{"occurrenceUtcTime":"04/17/2018 20:25:29 +00:00","deviceId":"Simulated.drone-01.35","deliveryId":"…",
    /// "sensorType":"drone-state-sensor;v1","temperature":"74.74","batteryStatus":"low","batteryLevel":"0.25"}`:
    /// temperature in °C, batteryLevel 0.00…1.00.
    public func statusMessage() -> [UInt8] {
        JSONWriter.bytes(.object(JSONObject([
            "occurrenceUtcTime": .string(DroneFormat.occurrenceTime(time)),
            "deviceId": .string(deviceID),
            "deliveryId": .string(deliveryID),
            "sensorType": .string(Self.statusSensorType),
            "temperature": .string(DroneFormat.fixed(temperature, decimals: 2)),
            "batteryStatus": .string(batteryStatus),
            "batteryLevel": .string(DroneFormat.fixed(min(1, max(0, batteryLevel)), decimals: 2)),
        ])))
    }

    /// The twin's reported properties: `{"mode":"charging"|"delivering"|"returning","batteryLevel":0.87,
    /// "deliveries":12,"homeDepot":{"lat":47.606200,"lon":-122.332100},"firmware":"2.3.1","lastDeliveryId":"…"}`
    /// (`mode` is `FlightPhase.mode`).
    public func reportedProperties() -> JSONValue {
        .object(JSONObject([
            "mode": .string(phase.mode),
            "batteryLevel": .number(DroneFormat.fixed(min(1, max(0, batteryLevel)), decimals: 2)),
            "deliveries": .int(deliveries),
            "homeDepot": .object(JSONObject([
                "lat": .number(DroneFormat.fixed(homeDepot.latitude, decimals: 6)),
                "lon": .number(DroneFormat.fixed(homeDepot.longitude, decimals: 6)),
            ])),
            "firmware": .string(Self.firmwareVersion),
            "lastDeliveryId": .string(deliveryID),
        ]))
    }

    /// Whether the twin's `mode` changed since the previous call (true on the first call, when nothing has
    /// been reported yet); the caller then sends a reported-properties patch.
    public mutating func takeReportDue() -> Bool {
        let mode = phase.mode
        defer { lastReportedMode = mode }
        return lastReportedMode != mode
    }

    /// The answer to the `getStatus` direct method: `{"phase":"enRoute","position":{"lat":…,"lon":…},
    /// "altitude":123.45,"velocity":45.10,"batteryLevel":0.87,"deliveryId":"…"}` (altitude m ASL, velocity km/h).
    public func statusJSON() -> JSONValue {
        .object(JSONObject([
            "phase": .string(phase.rawValue),
            "position": .object(JSONObject([
                "lat": .number(DroneFormat.fixed(position.latitude, decimals: 6)),
                "lon": .number(DroneFormat.fixed(position.longitude, decimals: 6)),
            ])),
            "altitude": .number(DroneFormat.fixed(altitude, decimals: 2)),
            "velocity": .number(DroneFormat.fixed(velocity, decimals: 2)),
            "batteryLevel": .number(DroneFormat.fixed(min(1, max(0, batteryLevel)), decimals: 2)),
            "deliveryId": .string(deliveryID),
        ]))
    }

    /// Seeded noise in -1..<1 for this drone, this step and this sensor: the same state reads the same.
    private func noise(_ sensor: UInt64) -> Double {
        DroneRandom.noise(noiseKey, UInt64(bitPattern: clock / Self.stepMilliseconds), sensor)
    }
}
