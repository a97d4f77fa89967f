import ServiceLifecycle

/// Writes the registry's recorded connection states to the store every `interval`, and once more when
/// the service group shuts down gracefully, so `recordConnection` never waits for the disk.
///
/// Get it from `DeviceRegistry.connectionStateFlusher` and add it to the server's `ServiceGroup`
/// (before the storage it writes to, so it stops first). Without it, connection states stay in
/// memory (still visible through the registry's reads) until something calls
/// `flushConnectionStates()`.
public struct ConnectionStateFlusher: Service {
    let registry: DeviceRegistry
    /// Time between flushes.
    public let interval: Duration

    /// A flusher for `registry`; `DeviceRegistry.connectionStateFlusher` makes one with the configured interval.
    public init(registry: DeviceRegistry, interval: Duration) {
        self.registry = registry
        self.interval = interval
    }

    /// Flushes every `interval` until graceful shutdown or cancellation; after a graceful shutdown it
    /// flushes once more (after a cancellation it does not).
    public func run() async throws {
        let registry = registry
        let interval = interval
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    break  // cancelled: graceful shutdown or the group is stopping
                }
                await registry.flushConnectionStates()
            }
        }
        // The last changes recorded before a graceful shutdown. When the task itself was cancelled, the
        // owner is tearing down in a hurry (storage may be closing): it calls `flushConnectionStates()`
        // itself if it wants them, and anything unwritten stays pending rather than failing here.
        if !Task.isCancelled { await registry.flushConnectionStates() }
    }
}
