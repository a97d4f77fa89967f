import HubCore
import HubStorage

extension DeviceRegistry {
    /// Records that an identity connected or disconnected (connection state, last activity). Cheap and
    /// non-blocking for the caller: written behind.
    ///
    /// The change is kept in memory (the latest per identity) and written by `flushConnectionStates()`,
    /// which the `connectionStateFlusher` service runs every `connectionStateFlushInterval`; the server
    /// must add that service to its `ServiceGroup`. Reads through the registry (`device`, `devices`,
    /// `module`, `modules`) already show unflushed states. As in Azure, recording never changes an etag.
    public func recordConnection(_ identity: IdentityID, connected: Bool) {
        let record = ConnectionStateRecord(identity: identity, state: connected ? .connected : .disconnected, time: now())
        let dropped = pendingConnections.withLock { pending -> Bool in
            if pending[identity] == nil && pending.count >= configuration.maximumPendingConnectionStates { return true }
            pending[identity] = record
            return false
        }
        if dropped {
            logger.warning("connection state not recorded: too many pending changes", metadata: ["identity": "\(identity)"])
        }
    }

    /// Records activity of a connected identity (a message it sent): `lastActivityTime` moves, the
    /// connection state and its time stay. Cheap and written behind, like `recordConnection`; callers
    /// on hot paths rate-limit it (the device protocol does so once per second per connection).
    public func recordActivity(_ identity: IdentityID) {
        let time = now()
        pendingConnections.withLock { pending in
            if var record = pending[identity] {
                record.lastActivity = time
                pending[identity] = record
            } else if pending.count < configuration.maximumPendingConnectionStates {
                pending[identity] = ConnectionStateRecord(
                    identity: identity, state: .connected, time: time, lastActivity: time, activityOnly: true)
            }
        }
    }

    /// Writes the recorded connection states to the store in batches of `connectionStateFlushBatchSize`
    /// (one transaction each on SQLite). Each batch holds the write lock, so a device update never writes
    /// back an older connection state over a newer one, and other writes can go between batches. A
    /// record leaves memory only once it is written (and only if no newer one arrived meanwhile), so
    /// reads never miss it; a record superseded or dropped (its identity deleted) before its batch is
    /// not written. On a storage failure the rest waits for the next flush, and the failure is logged.
    public func flushConnectionStates() async {
        let records = pendingConnections.withLock { Array($0.values) }
        let batchSize = max(1, configuration.connectionStateFlushBatchSize)
        var start = 0
        while start < records.count {
            let candidates = records[start..<min(start + batchSize, records.count)]
            let written = await writes.withLock { () async -> Bool in
                let batch = pendingConnections.withLock { pending in candidates.filter { pending[$0.identity] == $0 } }
                guard !batch.isEmpty else { return true }
                do throws(StorageError) {
                    try await store.recordConnectionStates(batch)
                } catch {
                    logger.warning(
                        "flushing connection states failed; will retry",
                        metadata: ["pending": "\(records.count - start)", "error": "\(error)"])
                    return false
                }
                pendingConnections.withLock { pending in
                    for record in batch where pending[record.identity] == record { pending[record.identity] = nil }
                }
                return true
            }
            guard written else { return }
            start += batchSize
        }
    }

    /// The service that flushes recorded connection states every `connectionStateFlushInterval` and once
    /// more on graceful shutdown. Add it to the server's `ServiceGroup`.
    public var connectionStateFlusher: ConnectionStateFlusher {
        ConnectionStateFlusher(registry: self, interval: configuration.connectionStateFlushInterval)
    }

    /// `device` with its unflushed connection state, if any.
    func withPendingConnection(_ device: Device) -> Device {
        guard let record = pendingConnections.withLock({ $0[IdentityID(device: device.id)] }) else { return device }
        var device = device
        if !record.activityOnly {
            device.connectionState = record.state
            device.connectionStateUpdatedTime = record.time
        }
        device.lastActivityTime = record.lastActivity
        return device
    }

    func withPendingConnection(_ module: Module) -> Module {
        guard let record = pendingConnections.withLock({ $0[module.identity] }) else { return module }
        var module = module
        if !record.activityOnly {
            module.connectionState = record.state
            module.connectionStateUpdatedTime = record.time
        }
        module.lastActivityTime = record.lastActivity
        return module
    }
}
