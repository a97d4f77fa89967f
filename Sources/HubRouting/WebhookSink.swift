import AsyncHTTPClient
import HubCore
import NIOCore
import NIOHTTP1

/// Posts records to an HTTP(S) URL as a JSON array, `maxBatchSize` per request, with
/// `Content-Type: application/json`, `X-Meridian-Endpoint`, `X-Meridian-Partition` and the configured
/// headers. Only a 2xx counts as delivered; anything else (refused connection, timeout, 3xx–5xx) throws
/// and the dispatcher retries the same records with back-off, so a receiver that is down loses nothing
/// and, once back, gets everything in order (at least once: a receiver that processed a batch but
/// failed to answer sees it again).
public final class WebhookSink: EndpointSink {
    public let endpoint: String
    private let settings: WebhookSettings
    private let client: HTTPClient

    public init(endpoint: String, settings: WebhookSettings) {
        self.endpoint = endpoint
        self.settings = settings
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(
            connect: .milliseconds(Int64(min(settings.timeoutSeconds, 10) * 1000)),
            read: .milliseconds(Int64(settings.timeoutSeconds * 1000)))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func recoveredPositions(partitions: Int) async throws -> [Int: Int64] { [:] }

    public func deliver(_ records: [RoutedRecord], partition: Int) async throws {
        try await post(records.map(\.json), headers: [("X-Meridian-Endpoint", endpoint), ("X-Meridian-Partition", String(partition))])
    }

    /// POSTs `records` (JSON values, compact) as JSON arrays of at most `maxBatchSize`, in order; throws
    /// unless every answer is a 2xx.
    public func post(_ records: [[UInt8]], headers extra: [(String, String)]) async throws {
        var start = 0
        while start < records.count {
            let end = min(records.count, start + settings.maxBatchSize)
            try await postBatch(records[start..<end], headers: extra)
            start = end
        }
    }

    private func postBatch(_ records: ArraySlice<[UInt8]>, headers extra: [(String, String)]) async throws {
        var body: [UInt8] = [0x5B]
        for (i, record) in records.enumerated() {
            if i > 0 { body.append(0x2C) }
            body.append(contentsOf: record)
        }
        body.append(0x5D)
        var request = HTTPClientRequest(url: settings.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "meridian")
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        for (name, value) in settings.headers.sorted(by: { $0.key < $1.key }) { request.headers.replaceOrAdd(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .milliseconds(Int64(settings.timeoutSeconds * 1000)))
        } catch {
            throw EndpointDeliveryError("webhook: \(Self.describe(error))")
        }
        // Drain (bounded) so the connection can be reused.
        _ = try? await response.body.collect(upTo: 64 * 1024)
        guard (200..<300).contains(response.status.code) else {
            throw EndpointDeliveryError("webhook: HTTP \(response.status.code)")
        }
    }

    public func close() async {
        try? await client.shutdown()
    }

    /// A transport error in words, without the URL's query or any header.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connect timeout"
            case .deadlineExceeded, .readTimeout: return "timeout"
            case .remoteConnectionClosed: return "connection closed by the receiver"
            default: return "\(error)"
            }
        }
        let text = "\(error)"
        if text.contains("refused") { return "connection refused" }
        return String(text.prefix(200))
    }
}
