import HubCore
import HubTwins
import Testing

/// Shared helpers of the HubTwins tests.
enum T {
    static let device1 = IdentityID(device: DeviceID(rawValue: "dev1")!)
    /// 2024-01-01T00:00:00.000Z
    static let t0 = Timestamp(rawValue: 1_704_067_200_000)
    static let t1 = Timestamp(rawValue: 1_704_067_201_000)
    static let t2 = Timestamp(rawValue: 1_704_067_202_000)

    /// Parses JSON text, failing the test on malformed input.
    static func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONValue {
        do {
            return try JSONParser.parse(Array(text.utf8))
        } catch {
            Issue.record("bad test JSON: \(error)", sourceLocation: sourceLocation)
            return .null
        }
    }

    static func object(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONObject {
        guard case .object(let object) = json(text, sourceLocation: sourceLocation) else {
            Issue.record("test JSON is not an object", sourceLocation: sourceLocation)
            return JSONObject()
        }
        return object
    }

    static func text(_ value: JSONValue) -> String { JSONWriter.string(value) }

    static func emptyTwin(_ identity: IdentityID = device1) -> Twin { Twin.empty(for: identity, at: t0) }

    static func device(_ id: String, etag: String = "MQ==") -> Device {
        Device(
            id: DeviceID(rawValue: id)!, generationID: "638000000000000000", etag: etag,
            authentication: .sas(primaryKey: .generate(), secondaryKey: .generate()))
    }

    /// Expects `body` to throw a `TwinError` with `code`; returns it.
    @discardableResult
    static func expectError<R>(
        _ code: TwinError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> R
    ) -> TwinError? {
        do {
            _ = try body()
            Issue.record("expected \(code), nothing thrown", sourceLocation: sourceLocation)
            return nil
        } catch let error as TwinError {
            #expect(error.code == code, "expected \(code), got \(error)", sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("expected a TwinError, got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
}
