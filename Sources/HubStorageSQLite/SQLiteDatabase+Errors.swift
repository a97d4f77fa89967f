import GRDB
import HubStorage

extension SQLiteDatabase {
    /// Maps any error thrown by GRDB or SQLite to a `StorageError` whose message is safe to log: it
    /// names the operation, SQLite's own message (which names tables and columns, never values) and
    /// the extended result code. Statement arguments are never included.
    public static func storageError(_ error: any Error, while operation: String) -> StorageError {
        if let error = error as? StorageError { return error }
        guard let error = error as? DatabaseError else {
            if error is RowDecodingError {
                return StorageError(.corrupt, "\(operation): a stored row cannot be decoded")
            }
            return StorageError(.unavailable, "\(operation): \(type(of: error))")
        }
        let detail = "\(operation): \(error.message ?? "SQLite error") (SQLite code \(error.extendedResultCode.rawValue))"
        return StorageError(code(for: error), detail)
    }

    /// The `StorageError` code of a SQLite result code.
    static func code(for error: DatabaseError) -> StorageError.Code {
        switch error.resultCode {
        case .SQLITE_FULL:
            // Also what SQLite's unix VFS reports for ENOSPC on write.
            return .diskFull
        case .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_FORMAT:
            return .corrupt
        case .SQLITE_CONSTRAINT:
            switch error.extendedResultCode {
            case .SQLITE_CONSTRAINT_PRIMARYKEY, .SQLITE_CONSTRAINT_UNIQUE: return .duplicate
            default: return .conflict
            }
        case .SQLITE_NOTFOUND:
            return .notFound
        default:
            // SQLITE_BUSY / LOCKED (busy past the timeout), IOERR, CANTOPEN, READONLY, PERM, NOMEM,
            // INTERRUPT, ABORT, MISUSE (closed connection): the store cannot be used right now.
            return .unavailable
        }
    }
}
