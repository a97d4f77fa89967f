import Foundation
import HubCore
import HubSimulator

/// The stream jobs `meridian demo` (and `meridian simulate --create-rules`) creates: the Drone Delivery rules — 30-second roll-ups into the
/// time-series store, and alarms for battery drops, silent drones, no-fly-zone incursions (which also
/// send the drone a returnToBase command), engine overheating, and low batteries on a delivery.
enum DemoJobs {
    struct Job {
        var name: String
        var query: String
        var outputs: [String: [String: Any]]
        /// Reference tables by name (the no-fly zones).
        var referenceData: [String: Any] = [:]
        var outOfOrderToleranceSeconds = 5.0
    }

    /// Creates (or replaces) every job on the hub, with `layout`'s no-fly zones.
    static func create(layout: FleetLayout, client: HubRESTClient) async throws {
        let zones = try JSONSerialization.jsonObject(with: Data(JSONWriter.bytes(layout.noFlyZonesJSON())))
        for job in all(noFlyZones: zones) {
            var body: [String: Any] = ["query": job.query, "outputs": job.outputs, "startFrom": "now", "outOfOrderToleranceSeconds": job.outOfOrderToleranceSeconds]
            if !job.referenceData.isEmpty { body["referenceData"] = job.referenceData }
            try await client.request(.PUT, "/jobs/sql/\(job.name)", body: body)
        }
    }

    static func all(noFlyZones: Any) -> [Job] {
        [
            Job(name: "drone-rollups", query: """
                SELECT deviceId, System.Timestamp() AS windowEnd,
                       AVG(CAST(velocity AS float)) AS avgVelocity, MAX(CAST(acceleration AS float)) AS maxAcceleration,
                       COUNT(*) AS messages
                INTO rollups
                FROM events TIMESTAMP BY occurrenceUtcTime OVER deviceId
                WHERE sensorType = 'drone-event-sensor;v1'
                GROUP BY deviceId, TumblingWindow(second, 30)
                """, outputs: ["rollups": ["type": "timeSeries", "measurePrefix": "rollup30s."]]),
            Job(name: "drone-battery-drop", query: """
                SELECT deviceId, CAST(batteryLevel AS float) AS level,
                       LAG(CAST(batteryLevel AS float)) OVER (PARTITION BY deviceId LIMIT DURATION(minute, 1)) AS previous
                INTO alarms
                FROM events TIMESTAMP BY occurrenceUtcTime
                WHERE sensorType = 'drone-state-sensor;v1'
                  AND LAG(CAST(batteryLevel AS float)) OVER (PARTITION BY deviceId LIMIT DURATION(minute, 1))
                      - CAST(batteryLevel AS float) > 0.10
                """, outputs: ["alarms": ["type": "alarm", "severity": "warning", "alarmType": "batteryDrop"]]),
            Job(name: "drone-silent", query: """
                SELECT s1.deviceId, s1.occurrenceUtcTime AS lastSeen
                INTO alarms
                FROM events s1 TIMESTAMP BY occurrenceUtcTime
                LEFT OUTER JOIN events s2 TIMESTAMP BY occurrenceUtcTime
                  ON s1.deviceId = s2.deviceId AND DATEDIFF(second, s1, s2) BETWEEN 1 AND 60
                WHERE s1.sensorType = 'drone-state-sensor;v1' AND s2.deviceId IS NULL
                """, outputs: ["alarms": ["type": "alarm", "severity": "critical", "alarmType": "droneSilent"]]),
            Job(name: "drone-no-fly-zone", query: """
                SELECT f.deviceId, z.zoneId, f.occurrenceUtcTime
                INTO alarms
                FROM events f TIMESTAMP BY occurrenceUtcTime
                JOIN noFlyZones z
                  ON ST_WITHIN(CreatePoint(CAST(GetArrayElement(SPLIT(f.position, '|'), 0) AS float),
                                           CAST(GetArrayElement(SPLIT(f.position, '|'), 1) AS float)), z.polygon) = 1
                WHERE f.sensorType = 'drone-event-sensor;v1';
                SELECT f.deviceId, 'returnToBase' AS command
                INTO command
                FROM events f TIMESTAMP BY occurrenceUtcTime
                JOIN noFlyZones z
                  ON ST_WITHIN(CreatePoint(CAST(GetArrayElement(SPLIT(f.position, '|'), 0) AS float),
                                           CAST(GetArrayElement(SPLIT(f.position, '|'), 1) AS float)), z.polygon) = 1
                WHERE f.sensorType = 'drone-event-sensor;v1'
                """, outputs: [
                    "alarms": ["type": "alarm", "severity": "critical", "alarmType": "noFlyZone"], "command": ["type": "c2d"],
                ], referenceData: ["noFlyZones": noFlyZones]),
            Job(name: "drone-overheating", query: """
                WITH scored AS (
                  SELECT deviceId, occurrenceUtcTime, CAST(temperature AS float) AS temperature,
                         AnomalyDetection_SpikeAndDip(CAST(temperature AS float), 95, 120, 'spikesanddips')
                           OVER (PARTITION BY deviceId LIMIT DURATION(minute, 10)) AS sd
                  FROM events TIMESTAMP BY occurrenceUtcTime
                  WHERE sensorType = 'drone-state-sensor;v1'
                )
                SELECT deviceId, occurrenceUtcTime, temperature
                INTO alarms
                FROM scored
                WHERE CAST(GetRecordPropertyValue(sd, 'IsAnomaly') AS bigint) = 1
                  AND ISFIRST(minute, 10) OVER (PARTITION BY deviceId) = 1
                """, outputs: ["alarms": ["type": "alarm", "severity": "critical", "alarmType": "engineOverheating"]]),
            Job(name: "drone-low-battery", query: """
                SELECT e.deviceId, CAST(e.batteryLevel AS float) AS level, t.properties.reported.mode AS mode
                INTO alarms
                FROM events e TIMESTAMP BY occurrenceUtcTime
                JOIN twins t ON e.deviceId = t.deviceId
                WHERE e.sensorType = 'drone-state-sensor;v1' AND CAST(e.batteryLevel AS float) < 0.2
                  AND t.properties.reported.mode = 'delivering'
                """, outputs: ["alarms": ["type": "alarm", "severity": "warning", "alarmType": "lowBattery"]]),
        ]
    }
}
