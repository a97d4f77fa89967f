extension TimeSeriesStore {
    /// The ids of one device's measures under one lock (creating new series with their types): `ids` gets
    /// one id per measure, in order. For writers that resolve a whole line or message at a time — a lock per
    /// measure was a visible share of line-protocol ingest.
    /// `tags`: the canonical tags of every one of the series (`SeriesTags.canonical`), empty for none. An
    /// existing series of the other kind (a string series for a number, or the reverse) is an
    /// `.invalidArgument` error: a series holds either strings or numbers.
    public func seriesIDs(device: String, tags: String = "", measures: [(name: String, type: ValueType)], into ids: inout [SeriesID]) throws(TimeSeriesError) {
        ids.removeAll(keepingCapacity: true)
        try state.withLock { (s) throws(TimeSeriesError) in
            for measure in measures {
                let key = SeriesKey(device: device, measure: measure.name, tags: tags)
                if let id = s.table.id(of: key) {
                    guard (s.table.types[Int(id)] == .string) == (measure.type == .string) else {
                        throw TimeSeriesError(.invalidArgument, "\(key): a series holds either strings or numbers, not both")
                    }
                    ids.append(SeriesID(rawValue: id))
                    continue
                }
                guard !s.closed else { throw .closed }
                try SeriesTable.validate(key)
                let id = UInt32(s.table.count)
                try seriesFile.append(id: id, key: key, type: measure.type)
                s.table.add(key, type: measure.type)
                s.heads.append(SeriesHead())
                ids.append(SeriesID(rawValue: id))
            }
        }
    }
}
