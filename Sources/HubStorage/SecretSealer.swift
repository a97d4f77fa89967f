/// Encrypts secrets before they are stored (device, module and policy keys), so a copy of the database
/// alone does not reveal them. `context` is bound to the ciphertext as associated data (e.g.
/// `device/dev1/primary`), so a sealed value copied into another row does not open.
public protocol SecretSealer: Sendable {
    func seal(_ plaintext: [UInt8], context: String) throws(StorageError) -> [UInt8]
    /// `.corrupt` when the value was tampered with, sealed for another context, or under an unknown key.
    func open(_ sealed: [UInt8], context: String) throws(StorageError) -> [UInt8]
}
