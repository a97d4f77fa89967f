import Foundation
import GRDB
import HubCore
import HubStorage

/// `CertificateStore` in the hub's SQLite database (`registry_ca_certificate`), by name (a UTF-8 BLOB,
/// compared byte for byte). Compare-and-swap on the etag inside each write transaction.
public final class SQLiteCertificateStore: CertificateStore {
    private let database: SQLiteDatabase

    /// Uses a database opened with `SQLiteRegistrySchema.migrations` among its migrations. CA
    /// certificates are public; nothing here is sealed.
    public init(database: SQLiteDatabase) {
        self.database = database
    }

    /// The columns with their placeholders, in the order of `values(_:)`.
    private static let schema: [(column: String, placeholder: String)] = [
        ("name", RegistryColumns.text), ("pem", RegistryColumns.text), ("thumbprint", RegistryColumns.text),
        ("subject", RegistryColumns.text), ("not_before_millis", "?"), ("not_after_millis", "?"), ("is_verified", "?"),
        ("verification_code", RegistryColumns.text), ("etag", RegistryColumns.text), ("created_millis", "?"),
        ("updated_millis", "?"),
    ]
    private static let columns = schema.map(\.column).joined(separator: ", ")
    private static let byName = "name = \(RegistryColumns.text)"

    public func certificates() async throws(StorageError) -> [CACertificate] {
        try await database.read("reading CA certificates") { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.columns) FROM registry_ca_certificate ORDER BY name")
                .map { row throws(StorageError) in try Self.certificate(from: row) }
        }
    }

    public func certificate(named name: String) async throws(StorageError) -> CACertificate? {
        try await database.read("reading a CA certificate") { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.columns) FROM registry_ca_certificate WHERE \(Self.byName)",
                arguments: [RegistryColumns.blob(name)]
            ).map { row throws(StorageError) in try Self.certificate(from: row) }
        }
    }

    public func insertCertificate(_ certificate: CACertificate) async throws(StorageError) {
        let arguments = Self.arguments(certificate)
        try await database.write("inserting a CA certificate") { db in
            try db.execute(
                sql: "INSERT INTO registry_ca_certificate (\(Self.columns)) VALUES (\(SQLiteRegistryStore.values(Self.schema)))",
                arguments: arguments)
        }
    }

    public func replaceCertificate(_ certificate: CACertificate, expectedEtag: String?) async throws(StorageError) {
        let key: StatementArguments = [RegistryColumns.blob(certificate.name)]
        let arguments = StatementArguments(Array(Self.values(certificate).dropFirst())) + key
        try await database.write("replacing a CA certificate") { db in
            try SQLiteRegistryStore.checkEtag(
                db, table: "registry_ca_certificate", where: Self.byName, key, expectedEtag, "replaceCertificate")
            try db.execute(
                sql: "UPDATE registry_ca_certificate SET \(SQLiteRegistryStore.assignments(Self.schema.dropFirst())) WHERE \(Self.byName)",
                arguments: arguments)
        }
    }

    public func deleteCertificate(named name: String, expectedEtag: String?) async throws(StorageError) {
        let key: StatementArguments = [RegistryColumns.blob(name)]
        try await database.write("deleting a CA certificate") { db in
            try SQLiteRegistryStore.checkEtag(
                db, table: "registry_ca_certificate", where: Self.byName, key, expectedEtag, "deleteCertificate")
            try db.execute(sql: "DELETE FROM registry_ca_certificate WHERE \(Self.byName)", arguments: key)
        }
    }

    private static func values(_ c: CACertificate) -> [(any DatabaseValueConvertible)?] {
        [
            RegistryColumns.blob(c.name), RegistryColumns.blob(c.pem), RegistryColumns.blob(c.thumbprint),
            RegistryColumns.blob(c.subject), c.notBefore.rawValue, c.notAfter.rawValue, c.isVerified,
            RegistryColumns.optionalBlob(c.verificationCode), RegistryColumns.blob(c.etag), c.created.rawValue, c.updated.rawValue,
        ]
    }

    private static func arguments(_ c: CACertificate) -> StatementArguments { StatementArguments(values(c)) }

    static func certificate(from row: Row) throws(StorageError) -> CACertificate {
        var r = RegistryRowReader(row, table: "registry_ca_certificate")
        let name = try r.text()
        let pem = try r.text()
        let thumbprint = try r.text()
        let subject = try r.text()
        let notBefore: Int64 = try r.next()
        let notAfter: Int64 = try r.next()
        let isVerified: Bool = try r.next()
        let code = try r.optionalText()
        let etag = try r.text()
        let created: Int64 = try r.next()
        let updated: Int64 = try r.next()
        return CACertificate(
            name: name, pem: pem, thumbprint: thumbprint, subject: subject, notBefore: Timestamp(rawValue: notBefore),
            notAfter: Timestamp(rawValue: notAfter), isVerified: isVerified, verificationCode: code, etag: etag,
            created: Timestamp(rawValue: created), updated: Timestamp(rawValue: updated))
    }
}
