extension SQLExpression {
    /// The expression as canonical text (keywords upper case, names as written, single spaces), with no
    /// location: two expressions written alike have the same text. Used to match SELECT columns against
    /// GROUP BY keys and in error messages.
    public var text: String {
        switch kind {
        case .null: return "NULL"
        case .boolean(let b): return b ? "TRUE" : "FALSE"
        case .integer(let n): return String(n)
        case .float(let x): return String(x)
        case .string(let s): return "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
        case .path(let parts): return parts.joined(separator: ".")
        case .star: return "*"
        case .unary(let op, let e): return op == .not ? "NOT \(e.text)" : "\(op.rawValue)\(e.text)"
        case .binary(let op, let a, let b): return "(\(a.text) \(op.rawValue) \(b.text))"
        case .isNull(let e, let negated): return "\(e.text) IS \(negated ? "NOT " : "")NULL"
        case .between(let e, let low, let high, let negated): return "\(e.text) \(negated ? "NOT " : "")BETWEEN \(low.text) AND \(high.text)"
        case .inList(let e, let items, let negated): return "\(e.text) \(negated ? "NOT " : "")IN (\(items.map(\.text).joined(separator: ", ")))"
        case .like(let e, let pattern, let negated): return "\(e.text) \(negated ? "NOT " : "")LIKE \(pattern.text)"
        case .cast(let e, let type, let orNull): return "\(orNull ? "TRY_CAST" : "CAST")(\(e.text) AS \(type))"
        case .caseWhen(let operand, let branches, let otherwise):
            var parts = ["CASE"]
            if let operand { parts.append(operand.text) }
            for branch in branches { parts.append("WHEN \(branch.when.text) THEN \(branch.then.text)") }
            if let otherwise { parts.append("ELSE \(otherwise.text)") }
            parts.append("END")
            return parts.joined(separator: " ")
        case .call(let call):
            var text = "\(call.name.uppercased())(\(call.distinct ? "DISTINCT " : "")\(call.arguments.map(\.text).joined(separator: ", ")))"
            if let over = call.over {
                var clauses: [String] = []
                if !over.partitionBy.isEmpty { clauses.append("PARTITION BY \(over.partitionBy.map(\.text).joined(separator: ", "))") }
                if let order = over.orderBy { clauses.append("ORDER BY \(order.text)\(over.descending ? " DESC" : "")") }
                if let limit = over.limitDuration { clauses.append("LIMIT DURATION(\(limit.unit), \(limit.amount.text))") }
                if let when = over.when { clauses.append("WHEN \(when.text)") }
                text += " OVER (\(clauses.joined(separator: " ")))"
            }
            return text
        }
    }

    /// Every call in the expression, outermost first (arguments and OVER clauses included).
    var calls: [(call: SQLCall, expression: SQLExpression)] {
        var found: [(SQLCall, SQLExpression)] = []
        visit { expression in
            if case .call(let call) = expression.kind { found.append((call, expression)) }
        }
        return found
    }

    /// Calls `body` on this expression and every sub-expression, parents first.
    func visit(_ body: (SQLExpression) -> Void) {
        body(self)
        switch kind {
        case .null, .boolean, .integer, .float, .string, .path, .star: break
        case .unary(_, let e), .isNull(let e, _), .cast(let e, _, _): e.visit(body)
        case .binary(_, let a, let b), .like(let a, let b, _): a.visit(body); b.visit(body)
        case .between(let e, let low, let high, _): e.visit(body); low.visit(body); high.visit(body)
        case .inList(let e, let items, _): e.visit(body); for item in items { item.visit(body) }
        case .caseWhen(let operand, let branches, let otherwise):
            operand?.visit(body)
            for branch in branches { branch.when.visit(body); branch.then.visit(body) }
            otherwise?.visit(body)
        case .call(let call):
            for argument in call.arguments { argument.visit(body) }
            if let over = call.over {
                for key in over.partitionBy { key.visit(body) }
                over.orderBy?.visit(body)
                over.when?.visit(body)
            }
        }
    }
}
