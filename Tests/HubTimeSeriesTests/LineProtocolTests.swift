import Testing

@testable import HubTimeSeries

@Suite("InfluxDB line protocol")
struct LineProtocolTests {
    struct Parsed: Equatable {
        var measurement: String
        var tags: [String]
        var fields: [String]
        var time: Int64
    }

    func parse(_ text: String, precision: LineProtocolParser.Precision = .ns, now: Int64 = 42) throws(TimeSeriesError) -> [Parsed] {
        var out: [Parsed] = []
        try LineProtocolParser(precision: precision).parse(Array(text.utf8), now: now) { line in
            out.append(Parsed(
                measurement: line.measurement, tags: line.tags.map { "\($0.key)=\($0.value)" },
                fields: line.fields.map { "\($0.key)=\($0.value)" }, time: line.time))
        }
        return out
    }

    @Test("the tsbench lines: tags, float fields, second timestamps")
    func tsbench() throws {
        let lines = try parse(
            "flight,deviceId=drone-00042 velocity=12.34,acceleration=-0.05,lat=47.61,lon=-122.3,alt=88.00 1767571200\n"
                + "status,deviceId=drone-00042 temperature=31.20,batteryLevel=77.05 1767571200\n", precision: .s)
        #expect(lines.count == 2)
        #expect(lines[0] == Parsed(
            measurement: "flight", tags: ["deviceId=drone-00042"],
            fields: ["velocity=float(12.34)", "acceleration=float(-0.05)", "lat=float(47.61)", "lon=float(-122.3)", "alt=float(88.0)"],
            time: 1_767_571_200_000))
        #expect(lines[1].fields == ["temperature=float(31.2)", "batteryLevel=float(77.05)"])
    }

    @Test("every field type, escapes, CRLF, comments, blank lines and a missing timestamp")
    func types() throws {
        let text = """
            # a comment
            my\\ meas\\,ure,tag\\ key=va\\=lue\\,x i=-12i,u=7u,b1=t,b2=FALSE,s="say \\"hi\\" \\\\",f=1e3 1500000000\r

               cpu,host=a v=0.5
            """
        let lines = try parse(text, precision: .ms, now: 99)
        #expect(lines.count == 2)
        #expect(lines[0].measurement == "my meas,ure")
        #expect(lines[0].tags == ["tag key=va=lue,x"])
        #expect(lines[0].fields == [
            "i=integer(-12)", "u=unsigned(7)", "b1=boolean(true)", "b2=boolean(false)", #"s=string("say \"hi\" \\")"#, "f=float(1000.0)",
        ])
        #expect(lines[0].time == 1_500_000_000)
        #expect(lines[1].time == 99)
    }

    @Test("precisions convert to milliseconds", arguments: [
        (LineProtocolParser.Precision.ns, Int64(1_700_000_000_123_456_789), Int64(1_700_000_000_123)),
        (.us, 1_700_000_000_123_456, 1_700_000_000_123), (.ms, 1_700_000_000_123, 1_700_000_000_123),
        (.s, 1_700_000_000, 1_700_000_000_000), (.m, 2, 120_000), (.h, 1, 3_600_000), (.ns, -1_000_000, -1),
    ])
    func precision(_ precision: LineProtocolParser.Precision, raw: Int64, expected: Int64) throws {
        #expect(try parse("m v=1 \(raw)", precision: precision).first?.time == expected)
    }

    @Test("fast float parsing equals Swift's correctly rounded parse")
    func floats() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let decimals = Int.random(in: 0...6, using: &rng)
            let value = Double(Int64.random(in: -1_000_000_000...1_000_000_000, using: &rng)) / 1000
            let text = decimals == 0 ? String(Int64(value)) : String(format: value, decimals: decimals)
            let parsed = try parse("m v=\(text)").first?.fields.first
            #expect(parsed == "v=float(\(Double(text)!))", "\(text)")
        }
    }

    @Test("malformed lines are refused with their line and column", arguments: [
        ("m", "missing fields"), ("m v", "missing '='"), ("m v=", "no value"), ("m v=abc", "bad value"),
        ("m v=1 12x", "bad timestamp"), ("m,t v=1", "missing '='"), ("m,t= v=1", "empty value"), (",t=1 v=1", "missing measurement"),
        ("m v=\"open", "unterminated string"), ("m v=1i2", "bad value"), ("m v=99999999999999999999i", "bad integer"),
        ("m v=1 99999999999999999999", "bad timestamp"), ("m v=inf", "bad value"), ("m v=1 1 2", "bad timestamp"),
        ("m v=1,", "missing '='"), ("m v=1x,w=2", "bad value"),
    ])
    func malformed(_ text: String, reason: String) {
        #expect {
            _ = try parse("ok v=1\n" + text)
        } throws: { error in
            let error = error as! TimeSeriesError
            return error.code == .invalidArgument && error.message.hasPrefix("line 2 column") && error.message.contains(reason)
        }
    }

    @Test("limits: line length and field count")
    func limits() {
        let parser = LineProtocolParser(precision: .s, maximumLineLength: 64, maximumFields: 3)
        #expect(throws: TimeSeriesError.self) {
            try parser.parse(Array("m v=1,w=2,x=3,y=4".utf8), now: 0) { _ in }
        }
        #expect(throws: TimeSeriesError.self) {
            try parser.parse(Array(("m v=\"" + String(repeating: "x", count: 80) + "\"").utf8), now: 0) { _ in }
        }
        #expect((try? parser.parse(Array("m v=1,w=2,x=3".utf8), now: 0) { _ in }) == 1)
    }
}

extension String {
    /// `value` with exactly `decimals` digits after the point (no Foundation).
    init(format value: Double, decimals: Int) {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int64((abs(value) * scale).rounded())
        let whole = scaled / Int64(scale)
        var fraction = String(scaled % Int64(scale))
        fraction = String(repeating: "0", count: decimals - fraction.count) + fraction
        self = (value < 0 && scaled != 0 ? "-" : "") + "\(whole).\(fraction)"
    }
}
