/// The series dictionary in memory: (device, measure, tags) ↔ dense id, value types, and the lookups a query's
/// selection needs (by measure, by device, all), listed in `SeriesKey` order.
struct SeriesTable: Sendable {
    static let maximumNameBytes = 1024

    private(set) var keys: [SeriesKey] = []
    private(set) var types: [ValueType] = []
    private var ids: [SeriesKey: UInt32] = [:]
    private var byMeasure: [String: [UInt32]] = [:]
    private var byDevice: [String: [UInt32]] = [:]
    /// Every id in key order, `rank[id]` its position; series added since are merged in (and ranks
    /// recomputed, O(n)) by `ensureOrder`, so a new device never costs a full sort under the lock.
    private var rank: [UInt32] = []
    private var ordered: [UInt32] = []
    private var unordered: [UInt32] = []

    var count: Int { keys.count }

    func id(of key: SeriesKey) -> UInt32? { ids[key] }

    static func validate(_ key: SeriesKey) throws(TimeSeriesError) {
        for name in [key.device, key.measure] {
            guard !name.isEmpty, name.utf8.count <= maximumNameBytes else {
                throw TimeSeriesError(.invalidArgument, "device ids and measure names must be 1 to \(maximumNameBytes) bytes")
            }
        }
        guard key.tags.utf8.count <= SeriesTags.maximumBytes else {
            throw TimeSeriesError(.invalidArgument, "a series' tags take at most \(SeriesTags.maximumBytes) bytes")
        }
    }

    /// Adds a series (the caller checked it is new); returns its id.
    @discardableResult
    mutating func add(_ key: SeriesKey, type: ValueType) -> UInt32 {
        let id = UInt32(keys.count)
        keys.append(key)
        types.append(type)
        ids[key] = id
        byMeasure[key.measure, default: []].append(id)
        byDevice[key.device, default: []].append(id)
        unordered.append(id)
        return id
    }

    var isOrdered: Bool { unordered.isEmpty }

    /// Merges the series added since the last call into the key order.
    mutating func ensureOrder() {
        guard !unordered.isEmpty else { return }
        let added = unordered.sorted { keys[Int($0)] < keys[Int($1)] }
        unordered = []
        var merged: [UInt32] = []
        merged.reserveCapacity(ordered.count + added.count)
        var i = 0, j = 0
        while i < ordered.count || j < added.count {
            if j == added.count || (i < ordered.count && keys[Int(ordered[i])] < keys[Int(added[j])]) {
                merged.append(ordered[i])
                i += 1
            } else {
                merged.append(added[j])
                j += 1
            }
        }
        ordered = merged
        rank = [UInt32](repeating: 0, count: keys.count)
        for (position, id) in ordered.enumerated() { rank[Int(id)] = UInt32(position) }
    }

    /// The series matching the selection, in key order (`ensureOrder` first). `tags`: only series whose
    /// tags include every pair.
    func select(devices: [String]?, measures: [String]?, tags: [String: String]? = nil) -> [UInt32] {
        precondition(isOrdered)
        var result: [UInt32]
        switch (devices, measures) {
        case (nil, nil):
            guard let tags, !tags.isEmpty else { return ordered }
            return ordered.filter { SeriesTags.matches(keys[Int($0)].tags, tags) }
        case (nil, let measures?):
            result = measures.flatMap { byMeasure[$0] ?? [] }
        case (let devices?, nil):
            result = devices.flatMap { byDevice[$0] ?? [] }
        case (let devices?, let measures?):
            result = []
            result.reserveCapacity(devices.count * measures.count)
            let wanted = Set(measures)
            for device in devices {
                for id in byDevice[device] ?? [] where wanted.contains(keys[Int(id)].measure) { result.append(id) }
            }
        }
        if let tags, !tags.isEmpty { result.removeAll { !SeriesTags.matches(keys[Int($0)].tags, tags) } }
        result.sort { rank[Int($0)] < rank[Int($1)] }
        var unique: [UInt32] = []
        unique.reserveCapacity(result.count)
        for id in result where unique.last != id { unique.append(id) }
        return unique
    }

    var measures: [String] { byMeasure.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
    var devices: [String] { byDevice.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
}
