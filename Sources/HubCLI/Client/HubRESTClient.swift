import AsyncHTTPClient
import Foundation
import HubAuth
import HubCore
import NIOCore
import NIOHTTP1
import NIOSSL

/// A small client for the hub's REST API, authenticating every call with a fresh service SAS token
/// made from a policy connection string.
public final class HubRESTClient: Sendable {
    let baseURL: String
    let connectionString: ConnectionString
    let http: HTTPClient
    /// Token lifetime; each request gets a new one.
    static let tokenLifetime: Int64 = 3600
    static let apiVersion = "2021-04-12"

    public init(baseURL: String, connectionString: ConnectionString, caFile: String?) throws {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.connectionString = connectionString
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ClientError(status: 0, code: "CAUnreadable", message: "cannot read the CA file \(caFile)")
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: ClientOptions.tlsConfiguration(ca: caFile))
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    deinit {
        try? http.syncShutdown()
    }

    /// A service token for the policy of the connection string.
    func token() -> String {
        SASToken.make(
            resourceURI: connectionString.hostName, key: connectionString.sharedAccessKey!,
            expiry: Timestamp.now().secondsSince1970 + Self.tokenLifetime, keyName: connectionString.sharedAccessKeyName)
    }

    /// The answer to a request: status, headers and body.
    public struct Response: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: Data

        /// The body as JSON (object or array), or nil.
        public var json: Any? { body.isEmpty ? nil : try? JSONSerialization.jsonObject(with: body) }
    }

    /// Sends a request; `path` starts with `/` and may carry a query. Throws `ClientError` for
    /// HTTP errors (with Azure's error name and message when the body has them) and connection failures.
    @discardableResult
    public func request(
        _ method: HTTPMethod, _ path: String, body: Any? = nil, rawBody: Data? = nil, headers extra: [(String, String)] = []
    ) async throws -> Response {
        let separator = path.contains("?") ? "&" : "?"
        var request = HTTPClientRequest(url: baseURL + path + separator + "api-version=\(Self.apiVersion)")
        request.method = method
        request.headers.add(name: "Authorization", value: token())
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body {
            let data = try JSONSerialization.data(withJSONObject: body, options: [.fragmentsAllowed])
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.body = .bytes(ByteBuffer(bytes: data))
        } else if let rawBody {
            request.body = .bytes(ByteBuffer(bytes: rawBody))
        }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(60))
        } catch {
            throw ClientError(status: 0, code: "ConnectionFailed", message: "cannot reach \(baseURL): \(error)")
        }
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        let data = Data(bytes.readableBytesView)
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            throw ClientError.from(status: status, headers: response.headers, body: data)
        }
        return Response(status: status, headers: response.headers, body: data)
    }
}

/// An error answer from the hub (or a failure to reach it), in words fit for a terminal.
public struct ClientError: Error, CustomStringConvertible {
    public var status: Int
    /// Azure's error name (`DeviceNotFound` …) or a local code.
    public var code: String
    public var message: String
    /// The answer's body (some errors, such as a failed bulk registry request, carry a result in it).
    public var body: Data?

    public init(status: Int, code: String, message: String, body: Data? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.body = body
    }

    public var description: String {
        status > 0 ? "\(code) (HTTP \(status)): \(message)" : message
    }

    /// Reads Azure's error body: `{"Message":"{\"errorCode\":…,\"message\":…}"}` or the legacy form.
    static func from(status: Int, headers: HTTPHeaders, body: Data) -> ClientError {
        let name = headers.first(name: "iothub-errorcode") ?? HTTPResponseStatus(statusCode: status).reasonPhrase
        var message = HTTPResponseStatus(statusCode: status).reasonPhrase
        if let outer = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let text = outer["Message"] as? String {
            if let inner = text.data(using: .utf8).flatMap({ try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }),
                let innerMessage = inner["message"] as? String
            {
                message = innerMessage
            } else {
                message = text
            }
        }
        return ClientError(status: status, code: name, message: message, body: body)
    }
}

extension HubRESTClient {
    /// Opens a Server-Sent Events stream (`GET path`, `Accept: text/event-stream`) and returns its body
    /// as it arrives; throws `ClientError` when the hub answers with an error instead.
    func eventStream(_ path: String) async throws -> HTTPClientResponse.Body {
        try await stream(path, accept: "text/event-stream")
    }

    /// `GET path` with its body returned as it arrives (SSE, JSON lines, CSV); throws `ClientError` when the
    /// hub answers with an error instead.
    func stream(_ path: String, accept: String) async throws -> HTTPClientResponse.Body {
        var request = HTTPClientRequest(url: baseURL + path)
        request.headers.add(name: "Authorization", value: token())
        request.headers.add(name: "Accept", value: accept)
        let response: HTTPClientResponse
        do {
            // The stream lasts until the reader stops; the hub's keepalives every 15 s keep reads alive.
            response = try await http.execute(request, timeout: .hours(24 * 365))
        } catch {
            throw ClientError(status: 0, code: "ConnectionFailed", message: "cannot reach \(baseURL): \(error)")
        }
        let status = Int(response.status.code)
        guard status == 200 else {
            let bytes = try await response.body.collect(upTo: 1024 * 1024)
            throw ClientError.from(status: status, headers: response.headers, body: Data(bytes.readableBytesView))
        }
        return response.body
    }
}
