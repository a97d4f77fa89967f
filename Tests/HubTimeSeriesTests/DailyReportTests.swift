import Testing

@testable import HubTimeSeries

@Suite("ISO 8601 durations and the daily report's arithmetic")
struct DailyReportTests {
    @Test("fixed-length durations", arguments: [
        ("PT1M", Int64(60_000)), ("PT30S", 30_000), ("PT0.5S", 500), ("PT1H30M", 5_400_000), ("P1D", 86_400_000),
        ("P1W", 604_800_000), ("P1DT12H", 129_600_000), ("pt5s", 5_000), ("PT1.25S", 1_250), ("PT90M", 5_400_000),
    ])
    func durations(_ text: String, expected: Int64) {
        #expect(ISODuration.milliseconds(text) == expected)
    }

    @Test("refused durations", arguments: ["", "P", "PT", "P1M", "P1Y", "1M", "PT-1S", "PT0S", "PT1M1H", "P1H", "PT1.5M", "PT.S", "PT1", "P1DT",
        "PT99999999999999999999S"])
    func refused(_ text: String) {
        #expect(ISODuration.milliseconds(text) == nil)
    }

    @Test("durations print in their shortest exact form and parse back", arguments: [Int64(1_000), 60_000, 5_400_000, 86_400_000, 90_061_500, 250])
    func printing(_ millis: Int64) {
        #expect(ISODuration.milliseconds(ISODuration.text(milliseconds: millis)) == millis)
    }

    @Test("a drone flying due north at 10 m/s for 10 minutes, then idle")
    func flight() {
        var samples = DailyReport.Samples()
        let metresPerDegree = 6_371_000 * Double.pi / 180
        for i in 0..<180 {  // every 5 s for 15 minutes
            let t = Int64(i) * 5_000
            let flying = i < 120
            let lat = 47.0 + (flying ? Double(i) : 120) * 50 / metresPerDegree
            samples.latitude.append((t, lat))
            samples.longitude.append((t, -122.0))
            samples.velocity.append((t, flying ? 10 : 0))
            samples.messageTimes.append(t)
            if i % 4 == 0 {
                samples.battery.append((t + 1, 90 - Double(i) / 10))
                samples.messageTimes.append(t + 1)
            }
        }
        let row = DailyReport().row(deviceId: "drone-1", samples: samples, alarms: 2)
        #expect(row.messages == 180 + 45)
        #expect(row.flightSeconds == 600)  // 120 intervals of 5 s started while moving
        #expect(abs(row.distanceKilometres - 6.0) < 0.001)  // 120 steps of 50 m
        #expect(row.averageVelocity == 10.0 * 120 / 180)
        #expect(row.maximumVelocity == 10)
        #expect(row.minimumBattery == 90 - 176.0 / 10)
        #expect(row.alarms == 2)
    }

    @Test("flightStatus wins over velocity, gaps are capped, altitude adds a climb")
    func statusAndGaps() {
        var samples = DailyReport.Samples()
        // Two positions 300 m apart horizontally and 400 m vertically: 500 m in 3-D.
        let metresPerDegree = 6_371_000 * Double.pi / 180
        samples.latitude = [(0, 10), (10_000, 10 + 300 / metresPerDegree), (600_000, 10 + 300 / metresPerDegree)]
        samples.longitude = [(0, 5), (10_000, 5), (600_000, 5)]
        samples.altitude = [(0, 100), (10_000, 500), (600_000, 500)]
        samples.velocity = [(0, 0), (10_000, 0)]  // says parked …
        samples.flightStatus = [(0, 1), (10_000, 1)]  // … but the drone reports flying
        let row = DailyReport().row(deviceId: "d", samples: samples, alarms: 0)
        #expect(abs(row.distanceKilometres - 0.5) < 1e-6)
        #expect(row.flightSeconds == 10 + 60)  // the 590 s silence counts 60 s at most
        #expect(row.minimumBattery == nil)
    }

    @Test("a device with nothing that day")
    func empty() {
        let row = DailyReport().row(deviceId: "d", samples: .init(), alarms: 0)
        #expect(row == DailyReport.Row(
            deviceId: "d", messages: 0, flightSeconds: 0, distanceKilometres: 0, averageVelocity: nil, maximumVelocity: nil,
            minimumBattery: nil, alarms: 0))
    }
}

@Suite("Daily report rendering")
struct DailyReportRenderingTests {
    let rows = [
        DailyReport.Row(deviceId: "drone-1", messages: 900, flightSeconds: 3_000, distanceKilometres: 42.5, averageVelocity: 14.2,
            maximumVelocity: 25, minimumBattery: 31.5, alarms: 2),
        DailyReport.Row(deviceId: "<b>\"odd\",id</b>", messages: 1, flightSeconds: 0, distanceKilometres: 0, averageVelocity: nil,
            maximumVelocity: nil, minimumBattery: nil, alarms: 0),
    ]

    @Test("CSV: header, fixed decimals, empty unknowns, RFC 4180 quoting")
    func csv() {
        let text = DailyReport.csv(rows)
        #expect(text == "deviceId,messages,flightMinutes,distanceKm,avgVelocity,maxVelocity,minBattery,alarms\r\n"
            + "drone-1,900,50.0,42.500,14.20,25.00,31.50,2\r\n"
            + "\"<b>\"\"odd\"\",id</b>\",1,0.0,0.000,,,,0\r\n")
    }

    @Test("HTML: self-contained, escaped, with one SVG bar per charted device")
    func html() {
        let page = DailyReport.html(rows, date: "2026-11-24", hubName: "hub & co")
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("hub &amp; co"))
        #expect(!page.contains("<b>\"odd\""))
        #expect(page.contains("&lt;b&gt;&quot;odd&quot;,id&lt;/b&gt;"))
        #expect(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"))
        #expect(page.components(separatedBy: "<svg").count - 1 == 3)  // distance, flight time, battery
        #expect(page.components(separatedBy: "<rect").count - 1 == 2 + 2 + 1)
        #expect(page.contains("<td>42.500</td>"))
    }

    @Test("fixed decimals", arguments: [(1.005, 2, "1.00"), (-0.0001, 2, "0.00"), (-2.5, 0, "-3"), (12.0, 3, "12.000"), (0.05, 1, "0.1")])
    func fixed(_ value: Double, decimals: Int, expected: String) {
        #expect(DailyReport.fixed(value, decimals) == expected)
    }
}
