/// The drone scenario's queries (../shared/stream-sql-examples.sql), kept here so the tests run from a
/// clean clone. Each must parse.
enum DroneQueries {
    static let all: [(name: String, text: String)] = [
        (
            "1. 30-second rollups per drone on event time, one timeline per drone",
            """
            -- 1. 30-second rollups per drone on event time, one timeline per drone
            SELECT deviceId, System.Timestamp() AS windowEnd,
                   AVG(CAST(velocity AS float)) AS avgVelocity, MAX(CAST(acceleration AS float)) AS maxAcceleration,
                   COUNT(*) AS messages
            INTO rollups
            FROM events TIMESTAMP BY occurrenceUtcTime OVER deviceId
            WHERE sensorType = 'drone-event-sensor;v1'
            GROUP BY deviceId, TumblingWindow(second, 30);
            """
        ),
        (
            "2. Battery dropped by more than 10 points within a minute",
            """
            -- 2. Battery dropped by more than 10 points within a minute
            SELECT deviceId, CAST(batteryLevel AS float) AS level,
                   LAG(CAST(batteryLevel AS float)) OVER (PARTITION BY deviceId LIMIT DURATION(minute, 1)) AS previous
            INTO alarms
            FROM events TIMESTAMP BY occurrenceUtcTime
            WHERE sensorType = 'drone-state-sensor;v1'
              AND LAG(CAST(batteryLevel AS float)) OVER (PARTITION BY deviceId LIMIT DURATION(minute, 1))
                  - CAST(batteryLevel AS float) > 0.10;
            """
        ),
        (
            "3. A drone that stopped reporting status: none for 60 s after its last one (status is due every 20 s)",
            """
            -- 3. A drone that stopped reporting status: none for 60 s after its last one (status is due every 20 s)
            SELECT s1.deviceId, s1.occurrenceUtcTime AS lastSeen
            INTO alarms
            FROM events s1 TIMESTAMP BY occurrenceUtcTime
            LEFT OUTER JOIN events s2 TIMESTAMP BY occurrenceUtcTime
              ON s1.deviceId = s2.deviceId AND DATEDIFF(second, s1, s2) BETWEEN 1 AND 60
            WHERE s1.sensorType = 'drone-state-sensor;v1' AND s2.deviceId IS NULL;
            """
        ),
        (
            "4. No-fly zones (reference data) entered by a drone in flight",
            """
            -- 4. No-fly zones (reference data) entered by a drone in flight
            SELECT f.deviceId, z.zoneId, f.occurrenceUtcTime
            INTO alarms
            FROM events f TIMESTAMP BY occurrenceUtcTime
            JOIN noFlyZones z
              ON ST_WITHIN(CreatePoint(CAST(GetArrayElement(SPLIT(f.position, '|'), 0) AS float),
                                       CAST(GetArrayElement(SPLIT(f.position, '|'), 1) AS float)), z.polygon) = 1
            WHERE f.sensorType = 'drone-event-sensor;v1';
            """
        ),
        (
            "5. Engine temperature spikes, at most one alarm per drone per 10 minutes",
            """
            -- 5. Engine temperature spikes, at most one alarm per drone per 10 minutes
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
              AND ISFIRST(minute, 10) OVER (PARTITION BY deviceId) = 1;
            """
        ),
        (
            "6. Live twin as reference data: low battery only matters for drones whose twin says they are on a delivery",
            """
            -- 6. Live twin as reference data: low battery only matters for drones whose twin says they are on a delivery
            SELECT e.deviceId, CAST(e.batteryLevel AS float) AS level, t.tags.fleet AS fleet
            INTO alarms
            FROM events e TIMESTAMP BY occurrenceUtcTime
            JOIN twins t ON e.deviceId = t.deviceId
            WHERE e.sensorType = 'drone-state-sensor;v1' AND CAST(e.batteryLevel AS float) < 0.2
              AND t.properties.reported.mode = 'delivering';
            """
        ),
    ]
}
