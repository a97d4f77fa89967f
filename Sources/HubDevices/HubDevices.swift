/// The Azure IoT Hub device protocol on top of the broker: telemetry with property bags, twin requests,
/// direct methods and cloud-to-device delivery for device and module connections.
public enum HubDevices {}
