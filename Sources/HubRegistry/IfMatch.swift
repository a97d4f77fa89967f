/// An `If-Match` header as the Azure SDKs send it (protocol reference §4.1): absent (a create), `*` or
/// `"*"` (any version), or an etag, quoted (`"MQ=="`) or not. A weak `W/` prefix is ignored too.
enum IfMatch: Hashable, Sendable {
    case absent
    case any
    case etag(String)

    init(_ header: String?) {
        guard let header else {
            self = .absent
            return
        }
        var text = Substring(header)
        while let f = text.first, f == " " || f == "\t" { text.removeFirst() }
        while let l = text.last, l == " " || l == "\t" { text.removeLast() }
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        if text.count >= 2, text.first == "\"", text.last == "\"" { text = text.dropFirst().dropLast() }
        self = text == "*" ? .any : .etag(String(text))
    }

    /// The etag a store write must match: nil for `absent` and `any`.
    var expectedEtag: String? {
        if case .etag(let etag) = self { return etag }
        return nil
    }

    /// True when a record with `etag` satisfies the condition (byte comparison; `absent` matches nothing
    /// because a create never replaces).
    func matches(_ etag: String) -> Bool {
        switch self {
        case .absent: false
        case .any: true
        case .etag(let expected): expected.utf8.elementsEqual(etag.utf8)
        }
    }
}
