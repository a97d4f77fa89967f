import DequeModule
import Synchronization

/// A first-come, first-served lock for async code: the registry holds it from a store write until
/// its cache update and observers have run, so changes are published in commit order.
///
/// Waiting is not cancellable (registry writes are short, and a cancelled waiter would otherwise have
/// to be found and removed); the body itself sees the caller's cancellation as usual.
final class WriteLock: Sendable {
    private struct State: ~Copyable {
        var locked = false
        var waiters: Deque<CheckedContinuation<Void, Never>> = []
    }

    private let state = Mutex(State())

    init() {}

    func lock() async {
        if state.withLock({ (s: inout State) -> Bool in
            guard !s.locked else { return false }
            s.locked = true
            return true
        }) { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { (s: inout State) -> Bool in
                if !s.locked {
                    s.locked = true
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    /// Hands the lock to the next waiter, if any (it stays locked), or releases it.
    func unlock() {
        let next = state.withLock { (s: inout State) -> CheckedContinuation<Void, Never>? in
            precondition(s.locked, "WriteLock.unlock() without lock()")
            if s.waiters.isEmpty {
                s.locked = false
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }

    func withLock<T, E: Error>(_ body: () async throws(E) -> T) async throws(E) -> T {
        await lock()
        defer { unlock() }
        return try await body()
    }
}
