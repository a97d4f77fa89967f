#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU and memory of a process over the measured window, read from /proc (Linux) and getrusage.
public struct ProcessUsage: Sendable, Hashable, Codable {
    /// The process id.
    public var pid: Int32
    /// CPU time over the window ÷ wall time, in percent of one core (200 = two cores busy).
    public var cpuPercent: Double
    /// Resident set at the end of the window, KiB.
    public var rssKiB: Int
    /// Largest resident set seen in the samples (once a second) during the run, KiB.
    public var peakRSSKiB: Int
    /// Busiest threads over the window, by name (threads of one name summed), busiest first.
    public var threads: [ThreadUsage]

    public init(pid: Int32, cpuPercent: Double, rssKiB: Int, peakRSSKiB: Int, threads: [ThreadUsage]) {
        self.pid = pid
        self.cpuPercent = cpuPercent
        self.rssKiB = rssKiB
        self.peakRSSKiB = peakRSSKiB
        self.threads = threads
    }
}

/// CPU of the threads sharing one name, over the window.
public struct ThreadUsage: Sendable, Hashable, Codable {
    /// Thread name (`comm`), e.g. `NIO-ELT-0-#0`.
    public var name: String
    /// Threads with that name.
    public var count: Int
    /// CPU time ÷ wall time, percent of one core.
    public var cpuPercent: Double

    public init(name: String, count: Int, cpuPercent: Double) {
        self.name = name
        self.count = count
        self.cpuPercent = cpuPercent
    }
}

/// A point-in-time reading of a process: CPU ticks (whole process and per thread) and memory.
struct ProcessSample: Sendable {
    /// Monotonic time of the reading, ns.
    var time: UInt64
    /// utime + stime of the process, clock ticks.
    var ticks: UInt64
    /// CPU seconds from getrusage (the generator itself; more precise than ticks).
    var rusageSeconds: Double?
    var rssKiB: Int
    /// Thread id → (name, ticks).
    var threads: [Int32: (name: String, ticks: UInt64)]

    /// Reads /proc/PID; nil if the process is gone or /proc is not there.
    static func read(pid: Int32, includeRusage: Bool = false) -> ProcessSample? {
        let time = MonotonicClock.now()
        guard let stat = ProcFS.readText("/proc/\(pid)/stat"), let ticks = ProcFS.cpuTicks(statLine: stat) else { return nil }
        var threads: [Int32: (String, UInt64)] = [:]
        for tid in ProcFS.directoryEntries("/proc/\(pid)/task") {
            guard let id = Int32(tid), let line = ProcFS.readText("/proc/\(pid)/task/\(tid)/stat"),
                let t = ProcFS.cpuTicks(statLine: line)
            else { continue }
            threads[id] = (ProcFS.comm(statLine: line), t)
        }
        var rusage: Double?
        if includeRusage {
            var usage = rusage_t()
            if getrusage(RUSAGE_SELF_WHO, &usage) == 0 {
                rusage = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
                    + Double(usage.ru_stime.tv_usec) / 1e6
            }
        }
        let rss = ProcFS.readText("/proc/\(pid)/status").flatMap { ProcFS.kibField("VmRSS:", in: $0) } ?? 0
        return ProcessSample(time: time, ticks: ticks, rusageSeconds: rusage, rssKiB: rss, threads: threads)
    }

    /// Usage between two readings of the same process.
    static func usage(pid: Int32, from start: ProcessSample, to end: ProcessSample, peakRSSKiB: Int, topThreads: Int = 8) -> ProcessUsage {
        let wall = Double(end.time &- start.time) / 1e9
        let hz = ProcFS.ticksPerSecond
        let cpuSeconds: Double
        if let a = start.rusageSeconds, let b = end.rusageSeconds {
            cpuSeconds = b - a
        } else {
            cpuSeconds = Double(end.ticks &- start.ticks) / hz
        }
        var byName: [String: (count: Int, ticks: UInt64)] = [:]
        for (tid, thread) in end.threads {
            let before = start.threads[tid]?.ticks ?? 0
            let delta = thread.ticks >= before ? thread.ticks - before : 0
            byName[thread.name, default: (0, 0)].count += 1
            byName[thread.name, default: (0, 0)].ticks += delta
        }
        let threads = byName.map { ThreadUsage(name: $0.key, count: $0.value.count, cpuPercent: wall > 0 ? Double($0.value.ticks) / hz / wall * 100 : 0) }
            .filter { $0.cpuPercent >= 0.05 }
            .sorted { $0.cpuPercent > $1.cpuPercent }
        return ProcessUsage(
            pid: pid, cpuPercent: wall > 0 ? cpuSeconds / wall * 100 : 0, rssKiB: end.rssKiB,
            peakRSSKiB: max(peakRSSKiB, end.rssKiB, start.rssKiB), threads: Array(threads.prefix(topThreads)))
    }
}

/// CPU of the whole machine over the window, from the first line of /proc/stat: so a report can show
/// how much went to processes other than the broker and the generator.
public struct MachineUsage: Sendable, Hashable, Codable {
    /// Online CPUs.
    public var cores: Int
    /// Busy time (all but idle and iowait) ÷ wall time, percent of one core (`cores` × 100 = all busy).
    public var busyPercent: Double
    /// 1-minute load average at the end of the window.
    public var loadAverage: Double

    public init(cores: Int, busyPercent: Double, loadAverage: Double) {
        self.cores = cores
        self.busyPercent = busyPercent
        self.loadAverage = loadAverage
    }
}

/// A reading of /proc/stat's aggregate line, clock ticks.
struct MachineSample: Sendable {
    var time: UInt64
    var busy: UInt64

    static func read() -> MachineSample? {
        guard let text = ProcFS.readText("/proc/stat"), let line = text.split(separator: "\n").first, line.hasPrefix("cpu ") else { return nil }
        let values = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard values.count >= 5 else { return nil }
        // user nice system idle iowait irq softirq steal …; guest time is already inside user.
        let total = values.prefix(8).reduce(0, +)
        return MachineSample(time: MonotonicClock.now(), busy: total - values[3] - values[4])
    }

    static func usage(from start: MachineSample, to end: MachineSample) -> MachineUsage {
        let wall = Double(end.time &- start.time) / 1e9
        let busy = Double(end.busy &- start.busy) / ProcFS.ticksPerSecond
        let load = ProcFS.readText("/proc/loadavg").flatMap { Double($0.split(separator: " ").first ?? "") } ?? 0
        return MachineUsage(cores: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), busyPercent: wall > 0 ? busy / wall * 100 : 0, loadAverage: load)
    }
}

#if canImport(Glibc)
typealias rusage_t = Glibc.rusage
#elseif canImport(Darwin)
typealias rusage_t = Darwin.rusage
#endif

/// Small readers of /proc text files, without Foundation.
enum ProcFS {
    static let ticksPerSecond: Double = {
        let hz = sysconf(Int32(_SC_CLK_TCK))
        return hz > 0 ? Double(hz) : 100
    }()

    /// The whole file as text, or nil.
    static func readText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
            if bytes.count > 1 << 20 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Names in a directory (without `.` and `..`).
    static func directoryEntries(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// utime + stime (fields 14 and 15) of a `stat` line. The name (field 2) may hold spaces and
    /// parentheses, so fields are counted after its last `)`.
    static func cpuTicks(statLine: String) -> UInt64? {
        guard let close = statLine.lastIndex(of: ")") else { return nil }
        let fields = statLine[statLine.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); utime is field 14 → index 11.
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return user + system
    }

    /// The name (field 2) of a `stat` line, without its parentheses.
    static func comm(statLine: String) -> String {
        guard let open = statLine.firstIndex(of: "("), let close = statLine.lastIndex(of: ")"), open < close else { return "?" }
        return String(statLine[statLine.index(after: open)..<close])
    }

    /// A `Name:   123 kB` field of /proc/PID/status, in KiB.
    static func kibField(_ name: String, in status: String) -> Int? {
        for line in status.split(separator: "\n") where line.hasPrefix(name) {
            return Int(line.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }
}

#if canImport(Glibc)
/// `RUSAGE_SELF` as the type getrusage takes (Glibc imports it as an enum case).
private let RUSAGE_SELF_WHO = __rusage_who_t(RUSAGE_SELF.rawValue)
#elseif canImport(Darwin)
private let RUSAGE_SELF_WHO = RUSAGE_SELF
#endif
