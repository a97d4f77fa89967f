/// The daily report as CSV and as one self-contained HTML page (inline CSS and SVG charts written here; no
/// scripts, fonts or images fetched from anywhere), so it can be mailed or archived as a single file.
extension DailyReport {
    /// The columns of the CSV and the HTML table, in order.
    public static let columns = [
        "deviceId", "messages", "flightMinutes", "distanceKm", "avgVelocity", "maxVelocity", "minBattery", "alarms",
    ]

    /// A row's cells as text (empty when unknown), numbers with fixed decimals.
    public static func cells(_ row: Row) -> [String] {
        [
            row.deviceId, String(row.messages), fixed(row.flightSeconds / 60, 1), fixed(row.distanceKilometres, 3),
            row.averageVelocity.map { fixed($0, 2) } ?? "", row.maximumVelocity.map { fixed($0, 2) } ?? "",
            row.minimumBattery.map { fixed($0, 2) } ?? "", String(row.alarms),
        ]
    }

    /// RFC 4180 CSV with a header line.
    public static func csv(_ rows: [Row]) -> String {
        var out = CSV.line(columns)
        for row in rows { out += CSV.line(cells(row)) }
        return out
    }

    /// The HTML page for `date` (`YYYY-MM-DD`): totals, charts of distance and flight time per device (the
    /// top `chartLimit` devices by distance), minimum battery, then the full table.
    public static func html(_ rows: [Row], date: String, hubName: String, chartLimit: Int = 40) -> String {
        let totalDistance = rows.reduce(0) { $0 + $1.distanceKilometres }
        let totalFlight = rows.reduce(0) { $0 + $1.flightSeconds }
        let totalMessages = rows.reduce(0) { $0 + $1.messages }
        let totalAlarms = rows.reduce(0) { $0 + $1.alarms }
        let byDistance = rows.sorted { ($0.distanceKilometres, $1.deviceId) > ($1.distanceKilometres, $0.deviceId) }.prefix(chartLimit)
        let lowBattery = rows.filter { $0.minimumBattery != nil }.sorted { $0.minimumBattery! < $1.minimumBattery! }.prefix(chartLimit)
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Daily report \(escape(date)) — \(escape(hubName))</title>
            <style>
            :root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #59636e; --bar: #2f6fde; --bar2: #1a9b6c; --warn: #c2410c; --grid: #d8dee4; }
            @media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --bar: #4c8dff; --bar2: #3fb984; --warn: #f0883e; --grid: #30363d; } }
            body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 2rem auto; max-width: 1100px; padding: 0 1rem; }
            h1 { font-size: 1.5rem; margin-bottom: .25rem; } .muted { color: var(--muted); }
            .kpis { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1.25rem 0; }
            .kpi { border: 1px solid var(--grid); border-radius: 8px; padding: .75rem 1rem; min-width: 9rem; }
            .kpi b { display: block; font-size: 1.4rem; }
            svg { width: 100%; height: auto; } svg text { fill: var(--fg); font-size: 11px; }
            table { border-collapse: collapse; width: 100%; margin-top: 1rem; font-variant-numeric: tabular-nums; }
            th, td { border-bottom: 1px solid var(--grid); padding: .3rem .5rem; text-align: right; } th:first-child, td:first-child { text-align: left; }
            </style></head><body>
            <h1>Daily fleet report — \(escape(date))</h1>
            <p class="muted">\(escape(hubName)) · UTC day · \(rows.count) devices · written by Meridian</p>
            <div class="kpis">
            <div class="kpi"><b>\(rows.count)</b>devices</div>
            <div class="kpi"><b>\(totalMessages)</b>messages</div>
            <div class="kpi"><b>\(fixed(totalFlight / 3600, 1)) h</b>flight time</div>
            <div class="kpi"><b>\(fixed(totalDistance, 1)) km</b>distance flown</div>
            <div class="kpi"><b>\(totalAlarms)</b>alarms raised</div>
            </div>

            """
        page += "<h2>Distance flown (km), top \(byDistance.count)</h2>\n"
        page += barChart(byDistance.map { ($0.deviceId, $0.distanceKilometres) }, color: "var(--bar)", decimals: 2)
        page += "<h2>Flight time (minutes), same devices</h2>\n"
        page += barChart(byDistance.map { ($0.deviceId, $0.flightSeconds / 60) }, color: "var(--bar2)", decimals: 1)
        if !lowBattery.isEmpty {
            page += "<h2>Lowest battery level, \(lowBattery.count) lowest</h2>\n"
            page += barChart(lowBattery.map { ($0.deviceId, $0.minimumBattery!) }, color: "var(--warn)", decimals: 2)
        }
        page += "<h2>All devices</h2>\n<table><thead><tr>"
        for column in columns { page += "<th>\(escape(column))</th>" }
        page += "</tr></thead><tbody>\n"
        for row in rows {
            page += "<tr>" + cells(row).map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
        }
        page += "</tbody></table>\n</body></html>\n"
        return page
    }

    /// A horizontal bar chart as inline SVG: one labelled bar per item, scaled to the largest value.
    static func barChart(_ items: [(label: String, value: Double)], color: String, decimals: Int) -> String {
        guard !items.isEmpty else { return "<p class=\"muted\">no data</p>\n" }
        let rowHeight = 18
        let labelWidth = 170
        let chartWidth = 560
        let height = items.count * rowHeight + 8
        let largest = max(items.map(\.value).max() ?? 0, .leastNonzeroMagnitude)
        var svg = "<svg viewBox=\"0 0 \(labelWidth + chartWidth + 90) \(height)\" role=\"img\" aria-label=\"bar chart\">\n"
        for (i, item) in items.enumerated() {
            let y = 4 + i * rowHeight
            let width = max(0, item.value) / largest * Double(chartWidth)
            svg += "<text x=\"\(labelWidth - 6)\" y=\"\(y + 13)\" text-anchor=\"end\">\(escape(item.label))</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 2)\" width=\"\(fixed(width, 1))\" height=\"\(rowHeight - 5)\" fill=\"\(color)\" rx=\"2\"/>"
            svg += "<text x=\"\(fixed(Double(labelWidth) + width + 5, 1))\" y=\"\(y + 13)\">\(fixed(item.value, decimals))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// Text safe inside HTML elements and attributes.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// `value` with `decimals` digits after the point, without Foundation.
    public static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "Infinity" : "-Infinity") }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e15 else { return String(value) }
        let integer = Int64(scaled)
        let whole = integer / Int64(scale)
        let sign = value < 0 && integer != 0 ? "-" : ""
        guard decimals > 0 else { return sign + String(whole) }
        let fraction = String(integer % Int64(scale))
        return sign + String(whole) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
}

/// RFC 4180 CSV lines: fields with a comma, quote or line break are quoted, quotes doubled; CRLF endings.
public enum CSV {
    public static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    public static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.doublingQuotes() + "\""
    }
}

extension String {
    /// The text with every `"` doubled, as CSV quoting needs.
    fileprivate func doublingQuotes() -> String {
        var out = ""
        for character in self {
            if character == "\"" { out += "\"\"" } else { out.append(character) }
        }
        return out
    }
}
