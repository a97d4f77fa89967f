import HubCore
import Testing

@testable import HubRegistry

@Suite("Registry internals")
struct RegistryInternalsTests {
    @Test("If-Match forms", arguments: [
        (nil, IfMatch.absent), ("*", .any), ("\"*\"", .any), (" \"*\" ", .any), ("W/\"*\"", .any),
        ("MQ==", .etag("MQ==")), ("\"MQ==\"", .etag("MQ==")), ("W/\"MQ==\"", .etag("MQ==")), ("\"\"", .etag("")),
        ("\"", .etag("\"")), ("**", .etag("**")),
    ] as [(String?, IfMatch)])
    func ifMatch(header: String?, expected: IfMatch) {
        #expect(IfMatch(header) == expected)
    }

    @Test("If-Match compares etags byte for byte")
    func ifMatchBytes() {
        #expect(IfMatch("caf\u{E9}").matches("caf\u{E9}"))
        #expect(!IfMatch("cafe\u{301}").matches("caf\u{E9}"))
        #expect(!IfMatch(nil).matches("x"))
        #expect(IfMatch("*").matches("anything"))
    }

    @Test("LRU: eviction order, touch on read, replace, remove, modify keeps recency")
    func lru() {
        var cache = LRUCache<String, Int>(capacity: 3)
        #expect(cache.set(1, for: "a") == nil)
        cache.set(2, for: "b")
        cache.set(3, for: "c")
        #expect(cache.value(for: "a") == 1)  // a is most recent now
        let evicted = cache.set(4, for: "d")
        #expect(evicted?.key == "b" && evicted?.value == 2)
        #expect(cache.keysByRecency == ["d", "a", "c"])
        cache.set(30, for: "c")  // replace moves to front
        #expect(cache.keysByRecency == ["c", "d", "a"])
        #expect(cache.modify("a") { $0 += 100 })
        #expect(cache.peek("a") == 101)
        #expect(cache.keysByRecency == ["c", "d", "a"])
        #expect(cache.remove("d") == 4)
        #expect(cache.remove("d") == nil)
        #expect(cache.keysByRecency == ["c", "a"])
        cache.set(5, for: "e")
        cache.set(6, for: "f")
        #expect(cache.count == 3)
        #expect(cache.keysByRecency == ["f", "e", "c"])
        #expect(!cache.modify("zzz") { $0 = 0 })
    }

    @Test("LRU under churn stays consistent with a reference model")
    func lruChurn() {
        var cache = LRUCache<Int, Int>(capacity: 16)
        var model: [Int] = []  // most recent first
        var rng = SystemRandomNumberGenerator()
        for step in 0..<5000 {
            let key = Int.random(in: 0..<40, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0:
                cache.set(step, for: key)
                model.removeAll { $0 == key }
                model.insert(key, at: 0)
                if model.count > 16 { model.removeLast() }
            case 1:
                if cache.value(for: key) != nil {
                    model.removeAll { $0 == key }
                    model.insert(key, at: 0)
                }
            default:
                cache.remove(key)
                model.removeAll { $0 == key }
            }
            #expect(cache.keysByRecency == model)
            if cache.keysByRecency != model { break }
        }
    }

    @Test("tokens: etags are 12-character base64 and differ from the previous; generation ids 18 digits")
    func tokens() {
        let etag = RegistryTokens.etag()
        #expect(etag.count == 12 && Base64.decode(etag)?.count == 8)
        #expect(RegistryTokens.etag(differentFrom: etag) != etag)
        let ids = Set((0..<100).map { _ in RegistryTokens.generationID() })
        #expect(ids.count == 100 && ids.allSatisfy { $0.count == 18 })
        let code = RegistryTokens.verificationCode()
        #expect(code.count == 32 && code.allSatisfy { $0.isHexDigit && !$0.isLowercase })
    }

    @Test("the write lock admits one holder at a time, first come first served")
    func writeLock() async {
        let lock = WriteLock()
        let log = ChangeLog()
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask {
                    await lock.withLock {
                        log.append(.userUpdated(username: "enter\(i)", current: nil))
                        await Task.yield()
                        log.append(.userUpdated(username: "leave\(i)", current: nil))
                    }
                }
            }
        }
        let names = log.changes.compactMap { change -> String? in
            if case .userUpdated(let name, _) = change { return name }
            return nil
        }
        #expect(names.count == 40)
        for pair in stride(from: 0, to: names.count, by: 2) {
            #expect(names[pair].hasPrefix("enter") && names[pair + 1] == "leave" + names[pair].dropFirst(5))
        }
    }
}
