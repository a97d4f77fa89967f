/// Device and module twins: documents with tags, desired and reported properties, merge patches with
/// versions and metadata, their store, and the IoT Hub query language over them.
public enum HubTwins {}
