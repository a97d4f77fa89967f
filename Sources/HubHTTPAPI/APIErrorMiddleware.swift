import HTTPTypes
import HubCore
import Hummingbird
import Logging
import NIOCore

/// Turns every failure into Azure's modern error response (protocol reference §4.5):
///
/// ```
/// HTTP/1.1 404 Not Found
/// iothub-errorcode: DeviceNotFound
/// Content-Type: application/json; charset=utf-8
///
/// {"Message":"{\"errorCode\":404001,\"trackingId\":\"…\",\"message\":\"…\",\"timestampUtc\":\"…\"}","ExceptionMessage":""}
/// ```
///
/// Unknown paths become 404 `NotFound`, known paths with another method 405 `MethodNotAllowed` with an
/// `Allow` header, MQTT-over-WebSocket paths without an upgrade 426. Anything unexpected is logged and
/// answered 500 without detail. When the request carried a body that may not have been read, the
/// response closes the connection, so an unread body is never drained.
struct APIErrorMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    let webSocketPaths: [String]
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return render(error, for: request)
        } catch let error as HTTPError {
            return render(translate(error, request), for: request)
        } catch is NIOTooManyBytesError {
            return render(APIError(.messageTooLarge, "the body is too large"), for: request)
        } catch {
            logger.error("unexpected error in \(request.method) \(RoutePattern.loggable(request.uri.path)): \(type(of: error))")
            return render(APIError(.serverError, "the hub failed to process the request"), for: request)
        }
    }

    func translate(_ error: HTTPError, _ request: Request) -> APIError {
        switch error.status {
        case .notFound:
            let path = request.uri.path
            if webSocketPaths.contains(path) || webSocketPaths.contains(PercentEncoding.decode(path.utf8) ?? path) {
                var upgrade = APIError(.upgradeRequired, "this path serves MQTT over WebSockets (subprotocol mqtt)")
                upgrade.headers = [("Upgrade", "websocket")]
                return upgrade
            }
            let methods = RoutePattern.methods(at: path)
            guard !methods.isEmpty else { return APIError(.notFound, "no resource at this path") }
            var notAllowed = APIError(.methodNotAllowed, "this resource does not support \(request.method)")
            notAllowed.headers = [("Allow", methods.map(\.rawValue).joined(separator: ", "))]
            return notAllowed
        case .contentTooLarge:
            return APIError(.messageTooLarge, "the body is too large")
        default:
            return APIError(.argumentInvalid, "the request is invalid")
        }
    }

    func render(_ error: APIError, for request: Request) -> Response {
        let trackingID = Self.trackingID()
        let level: Logger.Level = error.code.status >= 500 ? .error : .debug
        logger.log(
            level: level,
            "\(request.method) \(RoutePattern.loggable(request.uri.path)) -> \(error.code.status) \(error.code.name): \(error.message)",
            metadata: ["trackingId": "\(trackingID)"])
        return Self.response(for: error, trackingID: trackingID, closeConnection: Self.hasBody(request))
    }

    /// Whether the request announced a body (which a failed request may have left unread).
    static func hasBody(_ request: Request) -> Bool {
        if request.headers[.transferEncoding] != nil { return true }
        if let length = request.headers[.contentLength], length != "0" { return true }
        return false
    }

    static func response(for error: APIError, trackingID: String, closeConnection: Bool) -> Response {
        let (head, body) = parts(for: error, trackingID: trackingID, closeConnection: closeConnection)
        return Response(status: head.status, headers: head.headerFields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The response head and body bytes of an error, for writers below Hummingbird's responder.
    static func parts(for error: APIError, trackingID: String, closeConnection: Bool) -> (HTTPResponse, [UInt8]) {
        let inner = JSONValue.object(
            JSONObject([
                "errorCode": .int(error.code.number),
                "trackingId": .string(trackingID),
                "message": .string(error.message),
                "timestampUtc": .string(Timestamp.now().iso8601),
            ]))
        let body = JSONWriter.bytes(.object(JSONObject(["Message": .string(JSONWriter.string(inner)), "ExceptionMessage": .string("")])))
        var headers: HTTPFields = [
            .contentType: "application/json; charset=utf-8",
            HTTPField.Name("iothub-errorcode")!: error.code.name,
        ]
        for (name, value) in error.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        if closeConnection { headers[.connection] = "close" }
        return (HTTPResponse(status: HTTPResponse.Status(code: error.code.status), headerFields: headers), body)
    }

    /// A random 128-bit id in hex, logged with the error so a client's report can be matched to the log.
    static func trackingID() -> String {
        var rng = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for _ in 0..<16 {
            let byte = UInt8.random(in: 0...255, using: &rng)
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
