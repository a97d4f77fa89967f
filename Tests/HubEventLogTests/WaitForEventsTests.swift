import HubCore
import HubEventLog
import HubTestKit
import Testing

@Suite struct WaitForEventsTests {
    @Test func timesOutWhenNothingIsAppendedAndWakesOnAnAppendToAnyWatchedPartition() async throws {
        let dir = try TemporaryDirectory()
        let log = try EventLog(directory: dir.path, configuration: EventLogTests.config { $0.partitionCount = 4 })
        defer { log.close() }
        let positions = Dictionary(uniqueKeysWithValues: (0..<4).map { ($0, try! log.bounds(partition: $0).next) })
        #expect(await log.waitForEvents(anyOf: positions, timeout: .milliseconds(50)) == false)
        let waiter = Task { await log.waitForEvents(anyOf: positions, timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(20))
        try await log.append(EventLogTests.message(1), partitionKey: "some-device")
        #expect(await waiter.value == true)
        // An offset already behind the end returns at once.
        let key = EventLog.partition(for: "some-device", count: 4)
        #expect(await log.waitForEvents(anyOf: [key: 0], timeout: .seconds(30)) == true)
    }
}
