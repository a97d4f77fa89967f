extension EventLog {
    /// Deletes whole sealed segments (never a partition's active one): those whose newest event is older
    /// than `retentionAge`, then the oldest across partitions while the log exceeds `retentionBytes`.
    /// Returns how many segments were deleted. Readers behind them get `skipped`.
    @discardableResult
    public func enforceRetention() -> Int {
        let cutoff = now().rawValue - configuration.retentionAge.milliseconds
        var deleted = 0
        for partition in partitions {
            while partition.deleteOldestSegment(where: { ($0.maxTime ?? Int64.min) < cutoff }) { deleted += 1 }
        }
        if let budget = configuration.retentionBytes {
            while partitions.reduce(0, { $0 + $1.totalBytes }) > budget {
                // The partition whose oldest sealed segment is oldest goes first.
                let candidates = partitions.compactMap { p in p.oldestSealed.map { (p, $0.maxTime ?? Int64.min) } }
                guard let oldest = candidates.min(by: { $0.1 < $1.1 }), oldest.0.deleteOldestSegment(where: { _ in true }) else { break }
                deleted += 1
            }
        }
        return deleted
    }

    /// Runs `enforceRetention` every `interval` on `clock` until the task is cancelled. The server runs
    /// it in its service group.
    public func runRetention<C: Clock>(every interval: Duration = .seconds(60), clock: C) async where C.Duration == Duration {
        while !Task.isCancelled {
            let deleted = enforceRetention()
            if deleted > 0 { logger.info("event log retention deleted \(deleted) segments") }
            do { try await clock.sleep(for: interval) } catch { return }
        }
    }
}

extension Partition {
    /// Committed bytes in all segments.
    var totalBytes: Int64 { shared.withLock { $0.segments.reduce(0) { $0 + $1.size } } }

    /// The oldest segment unless it is the active one.
    var oldestSealed: Segment? { shared.withLock { $0.segments.count > 1 ? $0.segments[0] : nil } }

    /// Removes the oldest segment if it is sealed and matches `predicate`, then unlinks its files.
    func deleteOldestSegment(where predicate: (Segment) -> Bool) -> Bool {
        let removed: Segment? = shared.withLock { state in
            guard state.segments.count > 1, predicate(state.segments[0]) else { return nil }
            state.counters.retentionDeletions += 1
            return state.segments.removeFirst()
        }
        guard let removed else { return false }
        // The .log goes last: recovery only looks at .log names, so a crash in between leaves at most
        // orphan index files, never a segment without its index being rebuilt.
        for ext in ["index", "timeindex", "log"] {
            do { try io.remove(Partition.path(directory, removed.baseOffset, ext)) } catch {
                logger.warning("event log partition \(number): could not delete segment \(removed.baseOffset): \(error)")
            }
        }
        if configuration.durability == .power { try? io.syncDirectory(directory) }
        return true
    }
}
