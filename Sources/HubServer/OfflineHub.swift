import Foundation
import HubAuth
import HubCore
import HubStorage
import HubStorageSQLite

/// Reads a hub's data directory directly, without a running hub (SQLite's WAL lets it read while the
/// hub writes).
public enum OfflineHub {
    /// The connection string of a shared access policy, e.g. `iothubowner`'s, read from `dataDirectory`.
    /// `masterKey` (base64) is needed only if the hub was started with `--master-key`; otherwise
    /// `<data-dir>/master.key` is used. The host name comes from `hostName`, else from the `hub.json`
    /// the hub wrote when it last started, else `localhost`.
    public static func connectionString(
        policy name: String, dataDirectory: String, hostName: String?, masterKey: String?, secondary: Bool
    ) async throws(HubServerError) -> String {
        let databasePath = SQLiteDatabase.path(inDataDirectory: dataDirectory)
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw HubServerError(.dataDirectory, "no hub data in \(dataDirectory) (no \(SQLiteDatabase.fileName)); start `meridian serve --data-dir \(dataDirectory)` once")
        }
        let key: MasterKey
        do {
            if let masterKey {
                key = try MasterKey(base64: masterKey)
            } else {
                key = try MasterKey.load(path: MasterKey.path(inDataDirectory: dataDirectory))
            }
        } catch {
            throw HubServerError(.storage, "cannot use the master key: \(error.message)")
        }
        let policy: AccessPolicy?
        do {
            let database = try SQLiteDatabase(path: databasePath, durability: .process, migrations: MeridianServer.migrations)
            defer { try? database.close() }
            policy = try await SQLiteAccessPolicyStore(database: database, sealer: MasterKeySealer(current: key)).policy(named: name)
        } catch {
            throw HubServerError(.storage, "cannot read the policies: \(error.message)")
        }
        guard let policy else {
            throw HubServerError(.invalidConfiguration, "no policy named \(name) (the defaults are iothubowner, service, device, registryRead, registryReadWrite)")
        }
        let host = hostName ?? HubInfo.read(fromDataDirectory: dataDirectory)?.serviceHostName ?? "localhost"
        return ConnectionString(
            hostName: host, sharedAccessKeyName: policy.name, sharedAccessKey: secondary ? policy.secondaryKey : policy.primaryKey
        ).description
    }
}
