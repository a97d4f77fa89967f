import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension HubServerError {
    /// `cannot listen on 127.0.0.1:1883 (mqtt): address already in use`, from whatever binding threw.
    public static func cannotListen(_ error: any Error, listener: ListenerPlan) -> HubServerError {
        let place = ListenerPlan.hostPort(listener.host, listener.port)
        return HubServerError(.cannotListen, "cannot listen on \(place) (\(listener.name)): \(bindFailureReason(error))")
    }

    /// A short, lower-case reason for a failed bind.
    static func bindFailureReason(_ error: any Error) -> String {
        if let error = error as? HubServerError { return error.message }
        if let error = error as? IOError { return errnoReason(error.errnoCode) }
        if let error = error as? SocketAddressError.UnknownHost {
            return "cannot resolve host \(error.host) (\(error.errorDescription))"
        }
        if let error = error as? SocketAddressError {
            switch error {
            case .failedToParseIPString(let text): return "\(text) is not an IP address"
            default: return "unusable address (\(error))"
            }
        }
        return "\(error)"
    }

    static func errnoReason(_ code: CInt) -> String {
        switch code {
        case EADDRINUSE: return "address already in use"
        case EACCES: return "permission denied (ports below 1024 need privileges)"
        case EADDRNOTAVAIL: return "address not available on this machine"
        default: return String(cString: strerror(code)).lowercased()
        }
    }
}
