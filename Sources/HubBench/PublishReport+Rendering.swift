import Foundation

extension PublishReport {
    /// The report as pretty JSON with sorted keys (`--json`, `--summary-json`).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// One line saying what was run.
    public var scenario: String {
        let load = rate > 0 ? "\(Self.count(rate)) msg/s offered" : "flat out"
        let window = qos == 1 ? ", inflight \(inflight)/publisher" : ""
        return "\(label) at \(target) over \(transport.uppercased()), MQTT \(mqttVersion), QoS \(qos), \(payloadBytes) B payloads, "
            + "\(publishers) publishers (\(connected) connected)\(window), \(load), "
            + "\(Self.seconds(durationSeconds)) measured after \(Self.seconds(warmupSeconds)) warm-up"
    }

    /// `(metric, value)` rows shared by the table and the Markdown renderings.
    public var rows: [(String, String)] {
        var rows: [(String, String)] = [
            ("throughput", "\(Self.count(messagesPerSecond)) msg/s \(qos == 1 ? "acknowledged" : "sent") (sent \(Self.count(sentPerSecond)) msg/s)")
        ]
        if let l = latency {
            rows.append(("PUBACK latency", "p50 \(Self.micros(l.p50)) · p90 \(Self.micros(l.p90)) · p99 \(Self.micros(l.p99)) · "
                + "p99.9 \(Self.micros(l.p999)) · max \(Self.micros(l.max)) (\(Self.count(Double(l.count))) samples)"))
        }
        rows.append(("messages", "sent \(Self.count(Double(sent))), acknowledged \(Self.count(Double(acked))), "
            + "unacknowledged after drain \(Self.count(Double(unacked)))\(unknownAcks > 0 ? ", unknown PUBACKs \(unknownAcks)" : "")"
            + (backlogAtEnd > 0 ? ", due but never sent \(Self.count(Double(backlogAtEnd)))" : "")))
        var problems = "connect failures \(connectFailures), disconnects \(disconnects), errors \(errors)"
        if drainTimedOut { problems += ", drain timed out" }
        if !connectFailureReasons.isEmpty {
            problems += " (" + connectFailureReasons.sorted { $0.value > $1.value }.map { "\($0.value)× \($0.key)" }.joined(separator: "; ") + ")"
        }
        rows.append(("problems", problems))
        if let b = broker {
            rows.append(("broker", "pid \(b.pid): CPU \(Self.percent(b.cpuPercent)), RSS \(Self.mebibytes(b.rssKiB)) (peak \(Self.mebibytes(b.peakRSSKiB)))"))
            if !b.threads.isEmpty { rows.append(("broker threads", Self.threads(b.threads))) }
        }
        if let g = generator {
            rows.append(("generator", "CPU \(Self.percent(g.cpuPercent)) with \(generatorThreads) event-loop thread\(generatorThreads == 1 ? "" : "s"), RSS \(Self.mebibytes(g.rssKiB))"))
            if !g.threads.isEmpty { rows.append(("generator threads", Self.threads(g.threads))) }
        }
        if let m = machine {
            let other = m.busyPercent - (broker?.cpuPercent ?? 0) - (generator?.cpuPercent ?? 0)
            rows.append(("machine", "\(m.cores) cores: busy \(Self.percent(m.busyPercent)) of \(m.cores * 100) %"
                + (broker != nil ? ", other processes \(Self.percent(max(0, other)))" : "") + String(format: ", load average %.2f", m.loadAverage)))
        }
        return rows
    }

    /// Aligned `metric  value` lines for a terminal.
    public func table() -> String {
        let width = rows.map(\.0.count).max() ?? 0
        return ([scenario] + rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }).joined(separator: "\n")
    }

    /// A Markdown section: the scenario and a two-column table.
    public func markdown() -> String {
        (["**\(scenario)**", "", "| metric | value |", "| --- | --- |"] + rows.map { "| \($0.0) | \($0.1) |" })
            .joined(separator: "\n") + "\n"
    }

    // MARK: - number formats

    static func count(_ v: Double) -> String {
        let n = Int64(v.rounded())
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func micros(_ us: UInt64) -> String {
        us >= 1000 ? String(format: "%.2f ms", Double(us) / 1000) : "\(us) µs"
    }

    static func percent(_ p: Double) -> String { String(format: "%.1f %%", p) }

    static func mebibytes(_ kib: Int) -> String { String(format: "%.1f MiB", Double(kib) / 1024) }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s)
    }

    static func threads(_ threads: [ThreadUsage]) -> String {
        threads.map { "\($0.name)\($0.count > 1 ? " ×\($0.count)" : "") \(percent($0.cpuPercent))" }.joined(separator: ", ")
    }
}

extension PublishProgress {
    /// One progress line: `[ 12.0/65 s] measuring  98,765 msg/s  p99 3.20 ms (window 3.10 ms)  in flight 9,800`.
    public var line: String {
        var parts = [
            String(format: "[%5.1f/%.0f s]", elapsed, total), phase.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0),
        ]
        if phase != .draining { parts.append("\(PublishReport.count(messagesPerSecond)) msg/s") }
        if let p = intervalP99 { parts.append("p99 \(PublishReport.micros(p))") }
        if let p = measuredP99 { parts.append("(window p99 \(PublishReport.micros(p)))") }
        parts.append("in flight \(PublishReport.count(Double(inflight)))")
        if backlog > 0 { parts.append("behind \(PublishReport.count(Double(backlog)))") }
        parts.append("open \(open)")
        if disconnects > 0 { parts.append("DISCONNECTS \(disconnects)") }
        if errors > 0 { parts.append("ERRORS \(errors)") }
        return parts.joined(separator: "  ")
    }

    /// `line` with a progress bar in front, for a terminal (`width` columns of bar).
    public func bar(width: Int = 24) -> String {
        let fraction = total > 0 ? min(1, max(0, elapsed / total)) : 1
        let filled = Int((fraction * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] " + line
    }
}
