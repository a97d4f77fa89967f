import HubStreamSQL
import HubTestKit
import Testing

private let here = SQLLocation(line: 1, column: 1)

private func aggregate(_ kind: SQLAccumulator.Kind, _ values: [SQLValue]) throws -> SQLValue {
    var accumulator = SQLAccumulator(kind)
    for value in values { try accumulator.add(value, at: here) }
    return accumulator.result()
}

private func close(_ value: SQLValue, _ expected: Double, tolerance: Double = 1e-9) -> Bool {
    guard case .float(let x) = value else { return false }
    return abs(x - expected) <= tolerance * max(1, abs(expected))
}

@Suite("stream SQL aggregates")
struct SQLAggregateTests {
    @Test("known values")
    func known() throws {
        let values: [SQLValue] = [2, 4, 4, 4, 5, 5, 7, 9].map { .int($0) }
        #expect(try aggregate(.countRows, values + [.null]) == .int(9))
        #expect(try aggregate(.count, values + [.null]) == .int(8))
        #expect(try aggregate(.countDistinct, values + [.null]) == .int(5))
        #expect(try aggregate(.sum, values) == .int(40))
        #expect(try aggregate(.average, values) == .float(5))
        #expect(try aggregate(.minimum, values) == .int(2))
        #expect(try aggregate(.maximum, values) == .int(9))
        #expect(close(try aggregate(.standardDeviation(sample: false), values), 2))
        #expect(close(try aggregate(.variance(sample: false), values), 4))
        #expect(close(try aggregate(.variance(sample: true), values), 32.0 / 7))
        #expect(close(try aggregate(.percentile(0.5, continuous: true, descending: false), [1, 2, 3, 4].map { .int($0) }), 2.5))
        #expect(close(try aggregate(.percentile(0.5, continuous: false, descending: false), [1, 2, 3, 4].map { .int($0) }), 2))
        #expect(close(try aggregate(.percentile(0.9, continuous: true, descending: false), (1...11).map { .int(Int64($0)) }), 10))
        #expect(try aggregate(.collect, [.int(1), .string("a")]) == .array([.int(1), .string("a")]))
        #expect(try aggregate(.minimum, [.string("b"), .string("a")]) == .string("a"))
        #expect(try aggregate(.maximum, [.datetime(5), .datetime(9)]) == .datetime(9))
    }

    @Test("over no values: COUNT 0, the others NULL; one value has no sample deviation")
    func empty() throws {
        #expect(try aggregate(.count, [.null]) == .int(0))
        for kind: SQLAccumulator.Kind in [.sum, .average, .minimum, .maximum, .variance(sample: false), .percentile(0.5, continuous: true, descending: false)] {
            #expect(try aggregate(kind, [.null]) == .null, "\(kind)")
        }
        #expect(try aggregate(.standardDeviation(sample: true), [.int(3)]) == .null)
    }

    @Test("SUM stays bigint until it overflows, then float")
    func overflow() throws {
        #expect(try aggregate(.sum, [.int(.max), .int(1)]) == .float(Double(Int64.max) + 1))
        #expect(try aggregate(.sum, [.int(1), .float(0.5)]) == .float(1.5))
    }

    @Test("TopOne keeps the whole record of the first key in order")
    func topOne() throws {
        var top = SQLAccumulator(.topOne(descending: true))
        for (t, name) in [(70, "a"), (91, "b"), (85, "c")] {
            try top.add(.int(Int64(t)), record: .record(SQLRecord([("name", .string(name))])), at: here)
        }
        #expect(top.result() == .record(SQLRecord([("name", .string("b"))])))
    }

    @Test("random series agree with a direct computation", arguments: 0..<20)
    func random(_ seed: Int) throws {
        var generator = SplitMix64(state: UInt64(seed))
        let xs = (0..<Int.random(in: 1...500, using: &generator)).map { _ in Double.random(in: -1e6...1e6, using: &generator) }
        let values = xs.map(SQLValue.float)
        let n = Double(xs.count)
        let mean = xs.reduce(0, +) / n
        let population = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
        #expect(close(try aggregate(.average, values), mean, tolerance: 1e-9))
        #expect(close(try aggregate(.variance(sample: false), values), population, tolerance: 1e-6))
        #expect(try aggregate(.minimum, values) == .float(xs.min()!))
        #expect(try aggregate(.maximum, values) == .float(xs.max()!))
        let sorted = xs.sorted()
        let position = 0.75 * (n - 1)
        let expected = sorted[Int(position)] + (sorted[min(Int(position) + 1, xs.count - 1)] - sorted[Int(position)]) * (position - position.rounded(.down))
        #expect(close(try aggregate(.percentile(0.75, continuous: true, descending: false), values), expected, tolerance: 1e-9))
    }

    @Test("bad input: non-numbers in SUM are errors; retained values are bounded")
    func limits() throws {
        #expect(throws: SQLError.self) { try aggregate(.sum, [.string("x")]) }
        var collect = SQLAccumulator(.collect)
        for i in 0..<SQLAccumulator.maximumRetained { try collect.add(.int(Int64(i)), at: here) }
        #expect(throws: SQLError.self) { try collect.add(.int(0), at: here) }
    }

    @Test("calls map to accumulators; bad calls are errors at plan time")
    func kinds() throws {
        func kind(_ text: String) throws -> SQLAccumulator.Kind? {
            let expression = try SQLParser.parseExpression(text)
            guard case .call(let call) = expression.kind else { return nil }
            return try SQLAccumulator.kind(of: call, at: expression.location)
        }
        #expect(try kind("COUNT(*)") == .countRows)
        #expect(try kind("count(DISTINCT deliveryId)") == .countDistinct)
        #expect(try kind("PERCENTILE_CONT(0.9) OVER (ORDER BY temperature)") == .percentile(0.9, continuous: true, descending: false))
        #expect(try kind("TopOne() OVER (ORDER BY temperature DESC)") == .topOne(descending: true))
        #expect(try kind("UPPER(x)") == nil)
        #expect(throws: SQLError.self) { try kind("PERCENTILE_CONT(1.5) OVER (ORDER BY t)") }
        #expect(throws: SQLError.self) { try kind("PERCENTILE_CONT(0.5)") }
        #expect(throws: SQLError.self) { try kind("AVG(a, b)") }
    }
}
