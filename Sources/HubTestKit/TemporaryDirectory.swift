import Foundation

/// A fresh directory under the system's temporary directory, for one test.
///
/// Created with `mkdtemp` (mode 0700, unique name); `remove()` deletes it with everything inside.
public struct TemporaryDirectory: Sendable {
    /// Absolute path of the directory.
    public let path: String

    public init(prefix: String = "meridian-test") throws {
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-XXXXXX").path
        var bytes = Array(template.utf8CString)
        guard let result = mkdtemp(&bytes) else {
            throw CocoaError(.fileWriteUnknown)
        }
        path = String(cString: result)
    }

    /// `path` joined with `component`.
    public func appending(_ component: String) -> String {
        URL(fileURLWithPath: path).appendingPathComponent(component).path
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
