import HubCore
import HubStorage

extension DeviceRegistry {
    /// The name of the all-rights policy whose key `--owner-key` sets.
    static let ownerPolicyName = "iothubowner"

    /// Creates Azure's default policies (`AccessPolicy.defaults()`) when the hub has none, and loads the
    /// verified CA certificates and policies into memory. `ownerKey` (from `--owner-key` /
    /// `MERIDIAN_OWNER_KEY`) replaces `iothubowner`'s primary key. Call once at start-up.
    ///
    /// `ownerKey` is applied on every start (the flag is authoritative); when the store has policies but
    /// no `iothubowner`, one is created with all rights. Observers hear `.policyUpdated` for every policy
    /// created or changed.
    public func bootstrap(ownerKey: SharedAccessKey?) async throws(RegistryError) {
        try await writes.withLock { () async throws(RegistryError) in
            var policies: [AccessPolicy]
            do throws(StorageError) {
                policies = try await policyStore.policies()
            } catch {
                throw failure(error, "loading policies", notFound: RegistryError(.policyNotFound, "no policies"))
            }
            var changed: [AccessPolicy] = []
            if policies.isEmpty {
                policies = AccessPolicy.defaults()
                changed = policies
            }
            if let ownerKey {
                if let i = policies.firstIndex(where: { $0.name.utf8.elementsEqual(Self.ownerPolicyName.utf8) }) {
                    if policies[i].primaryKey != ownerKey {
                        policies[i].primaryKey = ownerKey
                        changed.removeAll { $0.name.utf8.elementsEqual(Self.ownerPolicyName.utf8) }
                        changed.append(policies[i])
                    }
                } else {
                    let owner = AccessPolicy(name: Self.ownerPolicyName, rights: .all, primaryKey: ownerKey, secondaryKey: .generate())
                    policies.append(owner)
                    changed.append(owner)
                }
            }
            if !changed.isEmpty {
                do throws(StorageError) {
                    try await policyStore.savePolicies(changed)
                } catch {
                    throw failure(error, "saving policies", notFound: RegistryError(.policyNotFound, "no policies"))
                }
            }
            let certificates: [CACertificate]
            do throws(StorageError) {
                certificates = try await certificateStore.certificates()
            } catch {
                throw failure(error, "loading CA certificates", notFound: RegistryError(.certificateNotFound, "no certificates"))
            }
            policySnapshot.withLock { snapshot in
                snapshot = Dictionary(policies.map { (ExactKey($0.name), $0) }, uniquingKeysWith: { _, last in last })
            }
            verifiedSnapshot.withLock { snapshot in
                snapshot = Dictionary(
                    certificates.filter(\.isVerified).map { (ExactKey($0.name), $0) }, uniquingKeysWith: { _, last in last })
            }
            for policy in changed { notify(.policyUpdated(name: policy.name, current: policy)) }
            logger.info(
                "registry bootstrapped",
                metadata: ["policies": "\(policies.count)", "created_or_changed": "\(changed.count)", "verified_cas": "\(certificates.count { $0.isVerified })"])
        }
    }

    /// All policies, from the store, ordered by name.
    public func policies() async throws(RegistryError) -> [AccessPolicy] {
        do throws(StorageError) {
            return try await policyStore.policies()
        } catch {
            throw failure(error, "listing policies", notFound: RegistryError(.policyNotFound, "no policies"))
        }
    }

    /// From memory after `bootstrap`; used on every service REST call. Names compare byte for byte.
    public func policy(named name: String) -> AccessPolicy? {
        policySnapshot.withLock { $0[ExactKey(name)] }
    }

    /// Replaces a policy's primary or secondary key with a fresh one, or swaps them. Tokens signed with
    /// a replaced key stop verifying as soon as this returns (`policy(named:)` serves the new keys).
    public func regeneratePolicyKey(_ name: String, _ which: KeyRegeneration) async throws(RegistryError) -> AccessPolicy {
        try await writes.withLock { () async throws(RegistryError) -> AccessPolicy in
            let notFound = RegistryError(.policyNotFound, "no such shared access policy")
            let found: AccessPolicy?
            do throws(StorageError) {
                found = try await policyStore.policy(named: name)
            } catch {
                throw failure(error, "reading a policy", notFound: notFound)
            }
            guard var policy = found else { throw notFound }
            guard case .sas(let primary, let secondary) = RegistryValidation.regenerate(
                primary: policy.primaryKey, secondary: policy.secondaryKey, which)
            else { preconditionFailure("regenerate returns SAS keys") }
            policy.primaryKey = primary
            policy.secondaryKey = secondary
            do throws(StorageError) {
                try await policyStore.savePolicies([policy])
            } catch {
                throw failure(error, "saving a policy", notFound: notFound)
            }
            let saved = policy
            policySnapshot.withLock { $0[ExactKey(saved.name)] = saved }
            notify(.policyUpdated(name: saved.name, current: saved))
            logger.info("policy key regenerated", metadata: ["key": "\(which.rawValue)"])
            return saved
        }
    }
}
