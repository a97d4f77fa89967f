import Foundation
import HubCore
import HubStreamJobs
import HubStreamSQL

/// `/jobs/sql`: stream jobs (Stream Analytics queries running in the hub).
///
/// - `PUT /jobs/sql/{name}`: create or replace (`StreamJobDefinition` JSON); the query is planned first
///   and a bad one is a 400 with its line and column.
/// - `GET /jobs/sql`, `GET /jobs/sql/{name}`: definitions with their status (state, events in, rows out
///   per output, late and failed events, lag, last error).
/// - `POST /jobs/sql/{name}/start`, `…/stop`, `DELETE /jobs/sql/{name}`.
/// - `GET /jobs/sql/{name}/outputs/{output}`: the last rows of a `memory` output.
extension ServiceAPI {
    func streamJobsCall(_ call: APICall) async throws(APIError) -> APIResult {
        guard let jobs = streamJobs else { throw APIError(.serviceUnavailable, "stream jobs are not running") }
        switch call.route {
        case .listStreamJobs:
            var items: [JSONValue] = []
            for definition in await jobs.list() { items.append(try Self.jobJSON(definition, await jobs.status(definition.name))) }
            return .ok(.array(items))
        case .getStreamJob:
            let name = try call.capture("name")
            guard let definition = await jobs.definition(name) else { throw APIError(.notFound, "no job named '\(name)'") }
            return .ok(try Self.jobJSON(definition, await jobs.status(name)))
        case .putStreamJob:
            let name = try call.capture("name")
            var definition: StreamJobDefinition = try Self.decode(try call.jsonBody, as: StreamJobDefinition.self)
            if !definition.name.isEmpty, definition.name != name { throw .invalid("the body's name differs from the path's") }
            definition.name = name
            let stored = try await Self.jobs { () async throws(StreamJobError) in try await jobs.put(definition) }
            return .ok(try Self.jobJSON(stored, await jobs.status(name)))
        case .deleteStreamJob:
            let name = try call.capture("name")
            try await Self.jobs { () async throws(StreamJobError) in try await jobs.delete(name) }
            return .noContent
        case .startStreamJob, .stopStreamJob:
            let name = try call.capture("name")
            let start = call.route == .startStreamJob
            let definition = try await Self.jobs { () async throws(StreamJobError) in try await jobs.setEnabled(name, start) }
            return .ok(try Self.jobJSON(definition, await jobs.status(name)))
        case .streamJobOutput:
            let name = try call.capture("name")
            let target = try call.capture("output")
            let rows = try await Self.jobs { () async throws(StreamJobError) in try await jobs.recentRows(name, target: target) }
            return .ok(.array(rows.map { row in
                .object(JSONObject(["time": .string(Timestamp(rawValue: row.time).iso8601), "row": SQLValue.record(row.record).json]))
            }))
        case .listRules:
            var items: [JSONValue] = []
            for definition in await jobs.list() where definition.rule != nil {
                items.append(try Self.ruleJSON(definition, await jobs.status(definition.name)))
            }
            return .ok(.array(items))
        case .getRule:
            let name = try call.capture("name")
            guard let definition = await jobs.definition(AlarmRule.jobName(name)), definition.rule != nil else {
                throw APIError(.notFound, "no rule named '\(name)'")
            }
            return .ok(try Self.ruleJSON(definition, await jobs.status(definition.name)))
        case .putRule:
            let name = try call.capture("name")
            let rule: AlarmRule = try Self.decode(try call.jsonBody, as: AlarmRule.self)
            var definition = try await Self.jobs { () async throws(StreamJobError) in try rule.job(named: name) }
            if let existing = await jobs.definition(definition.name) {
                guard existing.rule != nil else { throw APIError(APIError.Code("Conflict", 409001), "a job named '\(definition.name)' that is not a rule exists") }
                definition.enabled = existing.enabled
            }
            let stored = try await Self.jobs { () async throws(StreamJobError) in try await jobs.put(definition) }
            return .ok(try Self.ruleJSON(stored, await jobs.status(stored.name)))
        case .deleteRule:
            let name = try call.capture("name")
            guard let definition = await jobs.definition(AlarmRule.jobName(name)), definition.rule != nil else {
                throw APIError(.notFound, "no rule named '\(name)'")
            }
            try await Self.jobs { () async throws(StreamJobError) in try await jobs.delete(definition.name) }
            return .noContent
        default:
            throw APIError(.serverError, "not a stream job route")
        }
    }

    /// A rule as the API shows it: its settings, its name, the job running it (name, generated query,
    /// enabled) and that job's status.
    static func ruleJSON(_ definition: StreamJobDefinition, _ status: StreamJobStatus?) throws(APIError) -> JSONValue {
        guard let rule = definition.rule, case .object(var object) = try json(rule), case .object(let job)? = try jobJSON(definition, status) as JSONValue? else {
            return .null
        }
        object["name"] = .string(String(definition.name.dropFirst("rule-".count)))
        object["job"] = .string(definition.name)
        object["enabled"] = .bool(definition.enabled)
        object["query"] = .string(definition.query)
        if let status = job["status"] { object["status"] = status }
        return .object(object)
    }

    private static func jobs<T: Sendable>(_ body: () async throws(StreamJobError) -> T) async throws(APIError) -> T {
        do {
            return try await body()
        } catch {
            switch error.code {
            case .invalid, .invalidQuery: throw APIError(.argumentInvalid, error.message)
            case .notFound: throw APIError(.notFound, error.message)
            case .conflict: throw APIError(APIError.Code("Conflict", 409001), error.message)
            case .storage: throw APIError(.serverError, error.message)
            }
        }
    }

    static func jobJSON(_ definition: StreamJobDefinition, _ status: StreamJobStatus?) throws(APIError) -> JSONValue {
        guard case .object(var object) = try json(definition) else { return .null }
        if let status {
            var s = JSONObject()
            s["state"] = .string(status.state.rawValue)
            s["eventsIn"] = .number(String(status.eventsIn))
            var rows = JSONObject()
            for (target, count) in status.rowsOut.sorted(by: { $0.key < $1.key }) { rows[target] = .number(String(count)) }
            s["rowsOut"] = .object(rows)
            s["lateAdjusted"] = .number(String(status.lateAdjusted))
            s["lateDropped"] = .number(String(status.lateDropped))
            s["errors"] = .number(String(status.errors))
            s["skippedRows"] = .number(String(status.skippedRows))
            s["overLimit"] = .number(String(status.overLimit))
            s["suppressedOnReplay"] = .number(String(status.suppressedOnReplay))
            s["lag"] = .number(String(status.lag))
            if let latency = status.outputLatency {
                s["outputLatencyMs"] = .object(JSONObject([
                    "p50": .number(String(Double(latency.p50) / 1000)), "p99": .number(String(Double(latency.p99) / 1000)),
                    "max": .number(String(Double(latency.max) / 1000)), "rows": .number(String(latency.count)),
                ]))
            }
            s["lastError"] = .optional(status.lastError)
            s["lastErrorTime"] = .optional(status.lastErrorTime?.iso8601)
            object["status"] = .object(s)
        }
        return .object(object)
    }
}
