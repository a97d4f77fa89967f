import HubCore
import HubStorage

/// One twin (or module twin) as a query sees it: its identity, for ordering and continuation, and its
/// service-twin JSON (`TwinJSON.serviceTwin`), which conditions and projections read.
public struct QueryDocument: Sendable, Hashable {
    /// The device or module, for scan order and continuation tokens.
    public var identity: IdentityID
    /// The service twin JSON (`TwinJSON.serviceTwin`) that conditions and projections read.
    public var json: JSONValue

    public init(identity: IdentityID, json: JSONValue) {
        self.identity = identity
        self.json = json
    }
}

/// One page of query results: the body of a `POST /devices/query` response and its headers.
public struct QueryPage: Sendable, Hashable {
    /// The items (the JSON array body).
    public var items: [JSONValue]
    /// The `x-ms-continuation` header for the next page; nil on the last page.
    public var continuation: String?
    /// The `x-ms-item-type` header.
    public var itemType: QueryItemType

    public init(items: [JSONValue], continuation: String?, itemType: QueryItemType) {
        self.items = items
        self.continuation = continuation
        self.itemType = itemType
    }
}

/// Runs twin queries page by page over a scan of documents (protocol reference §4.3, §7.1).
///
/// The scan is a closure, so the caller decides where documents come from: the registry joined with
/// the twin service (every identity has a twin, even one never written), the twin store, or a fixed
/// list in tests. It must return the documents of `scope` in identity order (`TwinOrderKey`: device id
/// bytes, the device before its modules, module id bytes), strictly after `after`, at most `limit`;
/// fewer than `limit` means the end.
public enum TwinQueryExecutor {
    /// The page size when the client sends none (`x-ms-max-item-count`).
    public static let defaultPageSize = 100
    /// Page sizes accepted; larger requests are served 1000 at a time (the service "may use a different
    /// value", say the SDK docs), smaller ones are refused.
    public static let pageSizes = 1...1000
    /// How many documents one scan call asks for.
    public static let scanBatchSize = 250

    /// A scan of documents in identity order; see `TwinQueryExecutor`.
    public typealias Scan = (_ scope: TwinScope, _ after: IdentityID?, _ limit: Int) async throws(TwinError) -> [QueryDocument]

    /// One page of `query`'s results.
    ///
    /// - Parameters:
    ///   - pageSize: `x-ms-max-item-count`; nil for `defaultPageSize`.
    ///   - continuation: `x-ms-continuation` from the previous page; nil for the first.
    /// - Throws: `.invalid` for a page size below 1 or a bad continuation token; whatever `scan` throws.
    public static func execute(
        _ query: TwinQuery, pageSize: Int? = nil, continuation: String? = nil, scan: Scan
    ) async throws(TwinError) -> QueryPage {
        let size = pageSize ?? defaultPageSize
        guard size >= pageSizes.lowerBound else { throw TwinError(.invalid, "the page size must be at least 1") }
        let limit = min(size, pageSizes.upperBound)
        let resume = try continuation.map { (token) throws(TwinError) in try QueryContinuation(token: token, for: query) }
        if query.aggregates {
            return try await aggregatePage(query, limit: limit, resume: resume, scan: scan)
        }
        return try await rowPage(query, limit: limit, resume: resume, scan: scan)
    }

    /// `execute` over a fixed list of documents (any order; sorted here, filtered to the query's scope).
    public static func execute(
        _ query: TwinQuery, documents: [QueryDocument], pageSize: Int? = nil, continuation: String? = nil
    ) async throws(TwinError) -> QueryPage {
        let sorted = documents.sorted { TwinOrderKey($0.identity) < TwinOrderKey($1.identity) }
        return try await execute(query, pageSize: pageSize, continuation: continuation) { scope, after, limit in
            let start = after.map { cursor in sorted.partitionPoint { TwinOrderKey(cursor) < TwinOrderKey($0.identity) } } ?? 0
            return Array(sorted[start...].lazy.filter { scope.contains($0.identity) }.prefix(limit))
        }
    }

    /// Rows of a non-aggregating query: scan from the cursor, keep matches, project, and look one match
    /// ahead so the last page has no continuation.
    private static func rowPage(
        _ query: TwinQuery, limit: Int, resume: QueryContinuation?, scan: Scan
    ) async throws(TwinError) -> QueryPage {
        let returned = resume?.returned ?? 0
        let remaining = query.top.map { max(0, $0 - returned) } ?? Int.max
        let want = min(limit, remaining)
        var items: [JSONValue] = []
        guard want > 0 else { return QueryPage(items: items, continuation: nil, itemType: query.itemType) }
        var cursor = resume?.after
        var lastReturned: IdentityID?
        while true {
            let batch = try await scan(query.scope, cursor, scanBatchSize)
            for document in batch where QueryEvaluator.matches(query.condition, document.json) {
                if items.count == want {
                    // Another match exists: this page is full and not the last.
                    let next = QueryContinuation(query: query, after: lastReturned, returned: returned + items.count)
                    return QueryPage(items: items, continuation: next.token, itemType: query.itemType)
                }
                items.append(project(query, document.json))
                lastReturned = document.identity
                if items.count == remaining { return QueryPage(items: items, continuation: nil, itemType: query.itemType) }
            }
            guard batch.count >= scanBatchSize, let last = batch.last else {
                return QueryPage(items: items, continuation: nil, itemType: query.itemType)
            }
            cursor = last.identity
        }
    }

    /// Rows of an aggregating query: aggregate every match, then page over the rows by offset.
    private static func aggregatePage(
        _ query: TwinQuery, limit: Int, resume: QueryContinuation?, scan: Scan
    ) async throws(TwinError) -> QueryPage {
        var aggregation = QueryAggregation(query)
        var cursor: IdentityID?
        while true {
            let batch = try await scan(query.scope, cursor, scanBatchSize)
            for document in batch where QueryEvaluator.matches(query.condition, document.json) { aggregation.add(document.json) }
            guard batch.count >= scanBatchSize, let last = batch.last else { break }
            cursor = last.identity
        }
        var rows = aggregation.rows
        if let top = query.top { rows = Array(rows.prefix(top)) }
        let start = min(resume?.returned ?? 0, rows.count)
        let end = min(start + limit, rows.count)
        let next = end < rows.count ? QueryContinuation(query: query, after: nil, returned: end).token : nil
        return QueryPage(items: Array(rows[start..<end]), continuation: next, itemType: query.itemType)
    }

    /// The item for one matching document: the document itself for `SELECT *`, else an object of the
    /// select items' values (undefined ones left out).
    private static func project(_ query: TwinQuery, _ document: JSONValue) -> JSONValue {
        guard case .items(let items) = query.selection else { return document }
        var row = JSONObject()
        for item in items {
            if let value = QueryEvaluator.evaluate(item.expression, document) { row[item.name] = value }
        }
        return .object(row)
    }
}

extension Array {
    /// The first index whose element satisfies `belongsToSecondPart` (which must be false for a prefix
    /// and true for the rest).
    fileprivate func partitionPoint(_ belongsToSecondPart: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if belongsToSecondPart(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
