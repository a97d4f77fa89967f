import HTTPTypes

/// Path patterns of the route tables (`ServiceRoute`, `DeviceRoute`): `/`-separated literals and
/// `{name}` captures of one non-empty segment. For the 405 `Allow` logic and for logs; the router itself
/// is Hummingbird's.
enum RoutePattern {
    /// Whether `path` (without query) has the shape of `pattern`: same number of segments, literals
    /// equal, captures non-empty.
    static func matches(_ pattern: String, path: String) -> Bool {
        let expected = pattern.split(separator: "/", omittingEmptySubsequences: false)
        let actual = path.split(separator: "/", omittingEmptySubsequences: false)
        guard expected.count == actual.count else { return false }
        for (p, a) in zip(expected, actual) {
            if p.first == "{" {
                if a.isEmpty { return false }
            } else if p != a {
                return false
            }
        }
        return true
    }

    /// Methods served at `path` by either table, for `405` answers and their `Allow` header.
    static func methods(at path: String) -> [HTTPRequest.Method] {
        ServiceRoute.methods(at: path) + DeviceRoute.methods(at: path)
    }

    /// Captures that hold lock tokens, which logs must not show.
    static let secretCaptures: Set<Substring> = ["{lockToken}", "{etag}"]

    /// `path` for a log line: a segment captured as a lock token (`{lockToken}`, `{etag}`) by a route of
    /// either table is replaced by the capture's name.
    static func loggable(_ path: String) -> String {
        let patterns = ServiceRoute.allCases.map(\.path) + DeviceRoute.allCases.map(\.path)
        let secret = patterns.first { pattern in
            pattern.split(separator: "/").contains { secretCaptures.contains($0) } && matches(pattern, path: path)
        }
        guard let pattern = secret else { return path }
        let expected = pattern.split(separator: "/", omittingEmptySubsequences: false)
        let actual = path.split(separator: "/", omittingEmptySubsequences: false)
        return zip(expected, actual).map { secretCaptures.contains($0) ? $0 : $1 }.joined(separator: "/")
    }
}
