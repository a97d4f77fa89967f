/// Messages between devices and the cloud: telemetry property bags, cloud-to-device queues with
/// locks, expiry and feedback.
public enum HubMessaging {}
