import HubAuth
import HubCore
import HubStorage

extension DeviceRegistry {
    /// Registers a CA (PEM of one certificate with basicConstraints CA:TRUE), unverified, with a
    /// verification code. `.invalidArgument` for bad PEM or a non-CA certificate (or a name that is
    /// empty, over 256 bytes or has control characters); `.certificateAlreadyExists` for a taken name.
    public func addCertificate(name: String, pem: String) async throws(RegistryError) -> CACertificate {
        try RegistryValidation.checkName(name, "the certificate name")
        let inspected: (subject: String, thumbprintSHA256: String, notBefore: Timestamp, notAfter: Timestamp)
        do throws(X509AuthError) {
            inspected = try X509DeviceVerifier.inspectCA(pem: pem)
        } catch {
            throw .invalid("the certificate is not a usable CA certificate (\(error.code.rawValue))")
        }
        return try await writes.withLock { () async throws(RegistryError) -> CACertificate in
            let now = now()
            let certificate = CACertificate(
                name: name, pem: pem, thumbprint: inspected.thumbprintSHA256, subject: inspected.subject,
                notBefore: inspected.notBefore, notAfter: inspected.notAfter, isVerified: false,
                verificationCode: RegistryTokens.verificationCode(), etag: RegistryTokens.etag(), created: now, updated: now)
            do throws(StorageError) {
                try await certificateStore.insertCertificate(certificate)
            } catch {
                throw failure(
                    error, "adding a CA certificate", notFound: Self.certificateNotFound,
                    duplicate: RegistryError(.certificateAlreadyExists, "a CA certificate with this name exists"))
            }
            notify(.certificateUpdated(name: name, current: certificate))
            return certificate
        }
    }

    /// A new verification code (invalidates the previous one).
    public func generateVerificationCode(name: String, ifMatch: String?) async throws(RegistryError) -> CACertificate {
        try await updateCertificate(name: name, ifMatch: ifMatch) { (certificate) throws(RegistryError) in
            certificate.verificationCode = RegistryTokens.verificationCode()
        }
    }

    /// Proof of possession: `proofPEM` must be a certificate with subject CN = the current verification
    /// code, signed by the CA's key and valid now. Marks the CA verified (and uses up the code).
    public func verifyCertificate(name: String, proofPEM: String, ifMatch: String?) async throws(RegistryError) -> CACertificate {
        let now = now()
        return try await updateCertificate(name: name, ifMatch: ifMatch) { (certificate) throws(RegistryError) in
            guard let code = certificate.verificationCode else {
                throw .invalid("the certificate has no verification code; generate one first")
            }
            do throws(X509AuthError) {
                try X509DeviceVerifier.verifyProofOfPossession(proofPEM: proofPEM, caPEM: certificate.pem, verificationCode: code, now: now)
            } catch {
                throw .invalid("the proof-of-possession certificate was not accepted (\(error.code.rawValue))")
            }
            certificate.isVerified = true
            certificate.verificationCode = nil
        }
    }

    public func certificates() async throws(RegistryError) -> [CACertificate] {
        do throws(StorageError) {
            return try await certificateStore.certificates()
        } catch {
            throw failure(error, "listing CA certificates", notFound: Self.certificateNotFound)
        }
    }

    public func certificate(named name: String) async throws(RegistryError) -> CACertificate {
        let found: CACertificate?
        do throws(StorageError) {
            found = try await certificateStore.certificate(named: name)
        } catch {
            throw failure(error, "reading a CA certificate", notFound: Self.certificateNotFound)
        }
        guard let found else { throw Self.certificateNotFound }
        return found
    }

    public func deleteCertificate(named name: String, ifMatch: String?) async throws(RegistryError) {
        let condition = IfMatch(ifMatch)
        try await writes.withLock { () async throws(RegistryError) in
            do throws(StorageError) {
                try await certificateStore.deleteCertificate(named: name, expectedEtag: condition.expectedEtag)
            } catch {
                throw failure(error, "deleting a CA certificate", notFound: Self.certificateNotFound)
            }
            verifiedSnapshot.withLock { $0[ExactKey(name)] = nil }
            notify(.certificateUpdated(name: name, current: nil))
        }
    }

    /// Verified CAs, from memory (used on every X.509 CONNECT), ordered by name.
    public func verifiedCertificates() -> [CACertificate] {
        verifiedSnapshot.withLock { snapshot in snapshot.keys.sorted().map { snapshot[$0]! } }
    }

    // MARK: helpers

    static let certificateNotFound = RegistryError(.certificateNotFound, "no CA certificate with this name")

    /// Reads, checks `ifMatch`, applies `change`, writes with a new etag and update time (compare-and-swap
    /// on the etag read), refreshes the verified set and notifies. With the write lock.
    private func updateCertificate(
        name: String, ifMatch: String?, _ change: (inout CACertificate) throws(RegistryError) -> Void
    ) async throws(RegistryError) -> CACertificate {
        let condition = IfMatch(ifMatch)
        return try await writes.withLock { () async throws(RegistryError) -> CACertificate in
            let found: CACertificate?
            do throws(StorageError) {
                found = try await certificateStore.certificate(named: name)
            } catch {
                throw failure(error, "reading a CA certificate", notFound: Self.certificateNotFound)
            }
            guard let current = found else { throw Self.certificateNotFound }
            guard condition == .absent || condition.matches(current.etag) else { throw .preconditionFailed() }
            var updated = current
            try change(&updated)
            updated.etag = RegistryTokens.etag(differentFrom: current.etag)
            updated.updated = now()
            do throws(StorageError) {
                try await certificateStore.replaceCertificate(updated, expectedEtag: current.etag)
            } catch {
                throw failure(error, "updating a CA certificate", notFound: Self.certificateNotFound)
            }
            let saved = updated
            verifiedSnapshot.withLock { $0[ExactKey(saved.name)] = saved.isVerified ? saved : nil }
            notify(.certificateUpdated(name: saved.name, current: saved))
            return saved
        }
    }
}
