extension DeviceRegistry {
    /// Calls `observer` after every committed change, in commit order, on the writer's task.
    ///
    /// Each change has been accepted by the store, and the credential cache already reflects it, by
    /// the time observers hear of it. The registry's write lock is held while they run, so an observer
    /// must be quick and must not call back into registry writes (it would wait for itself); hand work
    /// off instead (the broker schedules disconnects on its event loops).
    public func observe(_ observer: @escaping @Sendable (RegistryChange) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    /// Applies `updateCache` to the credential cache, then tells the observers about `change`. Call with
    /// the write lock held, after the store write succeeded.
    func committed(_ change: RegistryChange, updateCache: (inout CredentialCache) -> Void) {
        cache.withLock { updateCache(&$0) }
        notify(change)
    }

    func notify(_ change: RegistryChange) {
        for observer in observers.withLock({ $0 }) { observer(change) }
    }
}
