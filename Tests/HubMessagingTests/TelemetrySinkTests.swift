import HubCore
import HubMessaging
import Synchronization
import Testing

@Suite("Telemetry sink")
struct TelemetrySinkTests {
    static func message(_ n: Int) -> DeviceMessage {
        DeviceMessage(body: Array("m\(n)".utf8), applicationProperties: [.init("n", String(n))])
    }

    @Test("append completes at once; the ring keeps the last N; counters count everything")
    func ring() async throws {
        let sink = InMemoryTelemetrySink(capacity: 3)
        let completions = Mutex(0)
        for n in 0..<5 {
            sink.append(Self.message(n), partitionKey: "dev1") { result in
                #expect((try? result.get()) != nil)
                completions.withLock { $0 += 1 }
            }
        }
        #expect(completions.withLock { $0 } == 5)
        #expect(sink.recent().map(\.offset) == [2, 3, 4])
        #expect(sink.recent().map(\.message.sequenceNumber) == [2, 3, 4])
        #expect(sink.recent(2).map(\.offset) == [3, 4])
        #expect(sink.recent(0).isEmpty)
        #expect(sink.recent(10).count == 3)
        #expect(sink.recent().allSatisfy { $0.partitionKey == "dev1" })
        #expect(sink.counters.messages == 5)
        #expect(sink.counters.bytes == Int64((0..<5).map { Self.message($0).sizeInBytes }.reduce(0, +)))
        try await sink.append(Self.message(5), partitionKey: "dev2")
        #expect(sink.recent(1).first?.partitionKey == "dev2")
    }

    @Test("subscribers see new messages in order and are removed when they stop")
    func subscribe() async throws {
        let sink = InMemoryTelemetrySink(capacity: 10)
        sink.append(Self.message(0), partitionKey: "d") { _ in }
        let stream = sink.subscribe()
        #expect(sink.subscriberCount == 1)
        for n in 1...3 { sink.append(Self.message(n), partitionKey: "d") { _ in } }
        var seen: [Int64] = []
        for await entry in stream {
            seen.append(entry.offset)
            if seen.count == 3 { break }
        }
        #expect(seen == [1, 2, 3])
    }

    @Test("a slow subscriber keeps only the newest buffered messages")
    func bounded() async {
        let sink = InMemoryTelemetrySink(capacity: 100)
        let stream = sink.subscribe(bufferingNewest: 2)
        for n in 0..<10 { sink.append(Self.message(n), partitionKey: "d") { _ in } }
        var iterator = stream.makeAsyncIterator()
        #expect(await iterator.next()?.offset == 8)
        #expect(await iterator.next()?.offset == 9)
    }

    @Test("a cancelled subscription is dropped")
    func cancelled() async {
        let sink = InMemoryTelemetrySink()
        let task = Task {
            for await _ in sink.subscribe() {}
        }
        while sink.subscriberCount == 0 { await Task.yield() }
        task.cancel()
        await task.value
        #expect(sink.subscriberCount == 0)
    }
}
