import Testing

@testable import HubBench

@Suite("InflightWindow and SendSchedule")
struct InflightWindowTests {
    @Test("opens up to the limit and returns send times on close")
    func limit() {
        var w = InflightWindow(limit: 3)
        let a = w.open(at: 10)
        let b = w.open(at: 20)
        let c = w.open(at: 30)
        #expect([a, b, c] == [1, 2, 3])
        #expect(w.open(at: 40) == nil)
        #expect(!w.canOpen)
        #expect(w.close(2) == 20)
        #expect(w.close(2) == nil)  // already closed
        #expect(w.close(99) == nil)  // never opened
        #expect(w.close(0) == nil)
        #expect(w.count == 2)
        #expect(w.open(at: 50) == 4)
    }

    @Test("wraps packet ids after 65,535 and never uses 0")
    func wraps() {
        var w = InflightWindow(limit: 100)
        var seen = Set<UInt16>()
        for t in 0..<70_000 {
            let id = w.open(at: UInt64(t))!
            #expect(id != 0)
            if t >= 65_535 { seen.insert(id) }
            #expect(w.close(id) == UInt64(t))
        }
        #expect(seen.contains(1))
        #expect(w.count == 0)
    }

    @Test("an overtaken acknowledgement holds its slot")
    func outOfOrder() {
        var w = InflightWindow(limit: 4)  // capacity 4
        for t in 0..<4 { _ = w.open(at: UInt64(t)) }  // ids 1...4
        #expect(w.close(2) == 1)
        #expect(w.close(3) == 2)
        #expect(w.close(4) == 3)
        // id 5 maps to the slot of id 1, still in flight.
        #expect(w.open(at: 9) == nil)
        #expect(w.close(1) == 0)
        #expect(w.open(at: 9) == 5)
    }

    @Test("a schedule keeps intended times and counts its backlog")
    func schedule() {
        var s = SendSchedule(start: 1000, interval: 100, end: 1500)
        #expect(s.due(at: 999) == nil)
        #expect(s.due(at: 1000) == 1000)
        s.take()
        #expect(s.backlog(at: 1350) == 3)  // 1100, 1200, 1300
        var taken: [UInt64] = []
        while let t = s.due(at: 1350) {
            taken.append(t)
            s.take()
        }
        #expect(taken == [1100, 1200, 1300])
        #expect(s.due(at: 10_000) == 1400)
        s.take()
        #expect(s.due(at: 10_000) == nil)  // 1500 is the end
        #expect(s.backlog(at: 10_000) == 0)
    }

    @Test("run plans stagger publishers across one interval")
    func stagger() {
        let plan = RunPlan(start: 0, measureStart: 0, measureEnd: 1_000_000, interval: 1000, publishers: 4)
        #expect(plan.schedule(forPublisher: 0)?.next == 0)
        #expect(plan.schedule(forPublisher: 1)?.next == 250)
        #expect(plan.schedule(forPublisher: 3)?.next == 750)
        #expect(RunPlan(start: 0, measureStart: 0, measureEnd: 1, interval: 0, publishers: 4).schedule(forPublisher: 0) == nil)
    }
}
