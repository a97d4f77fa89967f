import HubStreamSQL
import Testing

@Suite("stream SQL lexer")
struct SQLLexerTests {
    @Test("tokens, comments, quoting and positions")
    func tokens() throws {
        let tokens = try SQLLexer.tokenize("SELECT [my field], 'it''s' -- note\n  FROM /* c */ e WHERE x >= 1.5e2 AND y <> .5")
        let kinds = tokens.map(\.kind)
        #expect(kinds == [
            .word("SELECT"), .quotedIdentifier("my field"), .symbol(","), .string("it's"), .word("FROM"), .word("e"), .word("WHERE"),
            .word("x"), .symbol(">="), .number("1.5e2"), .word("AND"), .word("y"), .symbol("<>"), .number(".5"), .end,
        ])
        #expect(tokens[4].location == SQLLocation(line: 2, column: 3))
        #expect(tokens[5].location == SQLLocation(line: 2, column: 16))
    }

    @Test("bad input is an error with its position", arguments: [
        ("SELECT 'open", 1, 8, "unterminated string"),
        ("SELECT a\n /* never closed", 2, 2, "unterminated /* comment"),
        ("SELECT [x", 1, 8, "unterminated identifier"),
        ("SELECT 12abc", 1, 8, "a number runs into 'a'"),
        ("SELECT 1e+", 1, 8, "a number's exponent needs digits"),
        ("SELECT a # b", 1, 10, "unexpected character '#'"),
    ])
    func errors(_ text: String, line: Int, column: Int, message: String) {
        #expect(throws: SQLError(message, at: SQLLocation(line: line, column: column))) { try SQLLexer.tokenize(text) }
    }
}

@Suite("stream SQL parser")
struct SQLParserTests {
    @Test("the drone scenario's queries parse", arguments: DroneQueries.all.map(\.name))
    func droneQueries(_ name: String) throws {
        let text = try #require(DroneQueries.all.first { $0.name == name }).text
        let script = try SQLParser.parse(text)
        #expect(!script.statements.isEmpty)
    }

    @Test("query 1: windowed GROUP BY with TIMESTAMP BY … OVER")
    func rollups() throws {
        let script = try SQLParser.parse(DroneQueries.all[0].text)
        let select = try #require(script.statements.first?.selects.first)
        #expect(select.into == "rollups")
        #expect(select.from.name == "events" && select.from.timestampBy?.kind == .path(["occurrenceUtcTime"]))
        #expect(select.from.timestampOver.map(\.kind) == [.path(["deviceId"])])
        #expect(select.items.count == 5)
        guard case .expression(let timestamp, let alias) = select.items[1], case .call(let call) = timestamp.kind else {
            Issue.record("System.Timestamp() is not a call")
            return
        }
        #expect(call.name == "System.Timestamp" && call.arguments.isEmpty && alias == "windowEnd")
        guard case .expression(let count, _) = select.items[4], case .call(let countCall) = count.kind else { Issue.record("no COUNT"); return }
        #expect(countCall.arguments.map(\.kind) == [.star])
        #expect(select.groupBy.count == 2)
        guard case .call(let window) = select.groupBy[1].kind else { Issue.record("no window"); return }
        #expect(window.name == "TumblingWindow" && window.arguments.map(\.kind) == [.path(["second"]), .integer(30)])
    }

    @Test("query 2: LAG … OVER (PARTITION BY … LIMIT DURATION) in SELECT and WHERE")
    func lag() throws {
        let select = try #require(try SQLParser.parse(DroneQueries.all[1].text).statements.first?.selects.first)
        guard case .binary(.and, _, let drop) = select.filter?.kind, case .binary(.greater, let difference, let threshold) = drop.kind,
            case .binary(.subtract, let lagExpression, _) = difference.kind, case .call(let lag) = lagExpression.kind
        else {
            Issue.record("unexpected WHERE shape: \(String(describing: select.filter))")
            return
        }
        #expect(threshold.kind == .float(0.10))
        #expect(lag.name == "LAG" && lag.over?.partitionBy.map(\.kind) == [.path(["deviceId"])])
        #expect(lag.over?.limitDuration?.unit == "minute" && lag.over?.limitDuration?.amount.kind == .integer(1))
    }

    @Test("query 3: LEFT OUTER JOIN with DATEDIFF … BETWEEN and IS NULL")
    func leftJoin() throws {
        let select = try #require(try SQLParser.parse(DroneQueries.all[2].text).statements.first?.selects.first)
        #expect(select.from.referenceName == "s1")
        let join = try #require(select.joins.first)
        #expect(join.kind == .leftOuter && join.source.referenceName == "s2" && join.source.timestampBy != nil)
        guard case .binary(.and, _, let between) = join.condition.kind, case .between(let value, _, _, false) = between.kind,
            case .call(let datediff) = value.kind
        else {
            Issue.record("unexpected ON shape")
            return
        }
        #expect(datediff.name == "DATEDIFF" && datediff.arguments.map(\.kind) == [.path(["second"]), .path(["s1"]), .path(["s2"])])
        guard case .binary(.and, _, let isNull) = select.filter?.kind else { Issue.record("no AND"); return }
        #expect(isNull.kind == .isNull(SQLExpression(.path(["s2", "deviceId"]), at: SQLLocation(line: 7, column: 51)), negated: false))
    }

    @Test("query 5: WITH step, anomaly detection OVER, ISFIRST")
    func withStep() throws {
        let script = try SQLParser.parse(DroneQueries.all[4].text)
        #expect(script.steps.map(\.name) == ["scored"])
        let select = try #require(script.statements.first?.selects.first)
        #expect(select.from.name == "scored" && select.into == "alarms")
        let step = try #require(script.steps.first?.query.selects.first)
        guard case .expression(let sd, "sd") = step.items[3], case .call(let anomaly) = sd.kind else { Issue.record("no sd"); return }
        #expect(anomaly.name == "AnomalyDetection_SpikeAndDip" && anomaly.arguments.count == 4)
        #expect(anomaly.over?.limitDuration?.unit == "minute")
    }

    @Test("query 6: dotted paths into the live twin")
    func twinPaths() throws {
        let select = try #require(try SQLParser.parse(DroneQueries.all[5].text).statements.first?.selects.first)
        guard case .expression(let fleet, "fleet") = select.items[2] else { Issue.record("no fleet"); return }
        #expect(fleet.kind == .path(["t", "tags", "fleet"]))
        #expect(select.joins.first?.kind == .inner && select.joins.first?.source.name == "twins")
    }

    @Test("other syntax: several statements, UNION, CASE, IN, LIKE, TRY_CAST, CROSS APPLY, HAVING, NOT, precedence")
    func other() throws {
        let script = try SQLParser.parse(
            """
            SELECT a.* INTO copy FROM events a;
            SELECT deviceId, CASE WHEN t > 80 THEN 'hot' WHEN t > 60 THEN 'warm' ELSE 'ok' END AS band,
                   TRY_CAST(x AS nvarchar(max)) AS s, COUNT(DISTINCT deliveryId) AS n
            INTO out2
            FROM events e
            CROSS APPLY GetArrayElements(e.readings) AS r
            WHERE NOT deviceId IN ('a', 'b') AND name NOT LIKE 'test%' OR -t * 2 + 1 = 3
            GROUP BY deviceId, HoppingWindow(Duration(minute, 5), Hop(minute, 1))
            HAVING COUNT(*) > 2
            UNION ALL
            SELECT deviceId, 'x', 'y', 0 FROM other;
            """)
        #expect(script.statements.count == 2)
        let query = script.statements[1]
        #expect(query.selects.count == 2 && query.unionAll == [true])
        let select = query.selects[0]
        #expect(select.applies.count == 1 && select.applies[0].alias == "r" && !select.applies[0].outer)
        #expect(select.having != nil)
        guard case .binary(.or, let left, let right) = select.filter?.kind else { Issue.record("OR is not loosest"); return }
        guard case .binary(.and, let notIn, let notLike) = left.kind else { Issue.record("AND"); return }
        guard case .unary(.not, let inList) = notIn.kind, case .inList(_, let items, false) = inList.kind else { Issue.record("NOT IN"); return }
        #expect(items.count == 2)
        guard case .like(_, _, true) = notLike.kind else { Issue.record("NOT LIKE"); return }
        guard case .binary(.equal, let sum, _) = right.kind, case .binary(.add, let product, _) = sum.kind,
            case .binary(.multiply, let negated, _) = product.kind, case .unary(.negate, _) = negated.kind
        else {
            Issue.record("arithmetic precedence")
            return
        }
        guard case .expression(let cast, "s") = select.items[2] else { Issue.record("no s"); return }
        #expect(cast.kind == .cast(SQLExpression(.path(["x"]), at: cast.location.advanced(by: 9)), type: "nvarchar(max)", orNull: true))
        if case .all(let qualifier, _) = script.statements[0].selects[0].items[0] { #expect(qualifier == "a") } else { Issue.record("a.*") }
    }

    @Test("invalid queries name the token and its position", arguments: [
        ("SELECT FROM events", 1, 8, "expected an expression, found 'FROM'"),
        ("SELECT a\nINTO out", 2, 9, "expected FROM, found the end of the query"),
        ("SELECT a FROM events WHERE", 1, 27, "expected an expression, found the end of the query"),
        ("SELECT a FROM events GROUP deviceId", 1, 28, "expected BY, found 'deviceId'"),
        ("SELECT f(a FROM e", 1, 12, "expected ')', found 'FROM'"),
        ("SELECT a FROM e RIGHT JOIN f ON a = b", 1, 17, "only JOIN, LEFT OUTER JOIN, CROSS APPLY and OUTER APPLY are supported"),
        ("SELECT a FROM e ORDER BY a", 1, 17, "ORDER BY is not supported in stream queries"),
        ("SELECT a FROM e x y", 1, 19, "expected the end of the query (or ';' between statements), found 'y'"),
        ("SELECT CASE END FROM e", 1, 13, "expected WHEN, found 'END'"),
        ("SELECT LAG(a) OVER (LIMIT a) FROM e", 1, 27, "expected DURATION after LIMIT, found 'a'"),
        ("WITH s AS SELECT a FROM e", 1, 11, "expected '(', found 'SELECT'"),
        ("SELECT a FROM e TIMESTAMP occurrenceUtcTime", 1, 27, "expected BY, found 'occurrenceUtcTime'"),
        ("SELECT TOP 0 a FROM e", 1, 12, "expected a positive whole number after TOP, found number 0"),
        ("SELECT 1e999 FROM e", 1, 8, "number 1e999 is out of range"),
    ])
    func invalid(_ text: String, line: Int, column: Int, message: String) {
        #expect(throws: SQLError(message, at: SQLLocation(line: line, column: column))) { try SQLParser.parse(text) }
    }

    @Test("nesting is bounded, not a stack overflow")
    func depth() {
        let deep = "SELECT " + String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000) + " FROM e"
        #expect(throws: SQLError.self) { try SQLParser.parse(deep) }
        let negations = "SELECT a FROM e WHERE " + String(repeating: "NOT ", count: 10_000) + "b"
        #expect(throws: SQLError.self) { try SQLParser.parse(negations) }
        let fine = "SELECT " + String(repeating: "(", count: 20) + "1" + String(repeating: ")", count: 20) + " FROM e"
        #expect((try? SQLParser.parse(fine)) != nil)
    }
}

extension SQLLocation {
    func advanced(by columns: Int) -> SQLLocation { SQLLocation(line: line, column: column + columns) }
}
