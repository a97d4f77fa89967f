/// Errors the storage engine raises, as `TimeSeriesError` values.
///
/// `TimeSeriesError.Code` has no I/O case yet (it lives in BitStream.swift, owned by the codec work); until
/// one is added, failed system calls are reported as `.corrupt` with a message that starts with "I/O".
extension TimeSeriesError {
    /// A failed system call on `path` (the message carries the operation and `strerror`, never data).
    static func io(_ operation: String, _ path: String, _ reason: String) -> TimeSeriesError {
        TimeSeriesError(.corrupt, "I/O: \(operation) \(path): \(reason)")
    }

    /// A write-ahead log failure the store could not recover from yet (see `TimeSeriesStore.append`).
    static var failed: TimeSeriesError {
        TimeSeriesError(.corrupt, "I/O: the write-ahead log failed and the store could not yet seal its heads to files")
    }

    static var closed: TimeSeriesError { TimeSeriesError(.invalidArgument, "the store is closed") }
}
