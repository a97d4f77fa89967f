import HubAuth
import HubCore
import HubStorage

extension DeviceRegistry {
    /// Creates or updates a user; `password` nil keeps the current hash (update only). The password is
    /// hashed with scrypt (`PasswordHasher`) and never stored or logged.
    ///
    /// Without `ifMatch` a create (`.userAlreadyExists` if taken; a password is required); with it an
    /// update (`.userNotFound`, `.preconditionFailed`). Usernames compare byte for byte; they must be
    /// 1…256 bytes without control characters. The hash is computed before the write lock is taken, so
    /// a slow scrypt never holds up other registry writes.
    public func putUser(username: String, password: String?, rules: [ACLRule], ifMatch: String?) async throws(RegistryError) -> MQTTUser {
        try RegistryValidation.checkName(username, "the username")
        try RegistryValidation.checkRules(rules)
        if let password { try RegistryValidation.checkPassword(password) }
        let condition = IfMatch(ifMatch)
        if condition == .absent && password == nil { throw .invalid("a new user needs a password") }
        let parameters = configuration.passwordHashing
        let hash = password.map { PasswordHasher.hash(password: $0, parameters: parameters) }
        return try await writes.withLock { () async throws(RegistryError) -> MQTTUser in
            if condition == .absent, let hash {
                let user = MQTTUser(username: username, passwordHash: hash, rules: rules, etag: RegistryTokens.etag())
                do throws(StorageError) {
                    try await userStore.insertUser(user)
                } catch {
                    throw failure(
                        error, "creating a user", notFound: Self.userNotFound,
                        duplicate: RegistryError(.userAlreadyExists, "a user with this name exists"))
                }
                committed(.userUpdated(username: username, current: user)) { $0.userWritten(user) }
                return user
            }
            let found: MQTTUser?
            do throws(StorageError) {
                found = try await userStore.user(named: username)
            } catch {
                throw failure(error, "reading a user", notFound: Self.userNotFound)
            }
            guard let current = found else { throw Self.userNotFound }
            guard condition.matches(current.etag) else { throw .preconditionFailed() }
            var updated = current
            if let hash { updated.passwordHash = hash }
            updated.rules = rules
            updated.etag = RegistryTokens.etag(differentFrom: current.etag)
            do throws(StorageError) {
                try await userStore.replaceUser(updated, expectedEtag: current.etag)
            } catch {
                throw failure(error, "updating a user", notFound: Self.userNotFound)
            }
            let saved = updated
            committed(.userUpdated(username: username, current: saved)) { $0.userWritten(saved) }
            return saved
        }
    }

    public func users() async throws(RegistryError) -> [MQTTUser] {
        do throws(StorageError) {
            return try await userStore.users()
        } catch {
            throw failure(error, "listing users", notFound: Self.userNotFound)
        }
    }

    public func user(named username: String) async throws(RegistryError) -> MQTTUser {
        let found: MQTTUser?
        do throws(StorageError) {
            found = try await userStore.user(named: username)
        } catch {
            throw failure(error, "reading a user", notFound: Self.userNotFound)
        }
        guard let found else { throw Self.userNotFound }
        return found
    }

    public func deleteUser(named username: String, ifMatch: String?) async throws(RegistryError) {
        let condition = IfMatch(ifMatch)
        try await writes.withLock { () async throws(RegistryError) in
            do throws(StorageError) {
                try await userStore.deleteUser(named: username, expectedEtag: condition.expectedEtag)
            } catch {
                throw failure(error, "deleting a user", notFound: Self.userNotFound)
            }
            committed(.userUpdated(username: username, current: nil)) { $0.userDeleted(username) }
        }
    }

    static let userNotFound = RegistryError(.userNotFound, "no user with this name")
}
