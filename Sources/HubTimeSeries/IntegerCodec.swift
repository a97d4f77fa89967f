/// Integer sequences — timestamps, scaled decimals, dictionary indices — as bit-packed groups of residuals.
///
/// A stream (empty for an empty sequence) is:
///
/// - the **order** in 2 bits: the residuals are the values themselves (0), their deltas (1) or their
///   deltas of deltas (2). The encoder tries all three and keeps the smallest. Arithmetic wraps, so every
///   Int64 sequence round-trips.
/// - for order ≥ 1 the first value, for order 2 (and two values or more) also the first delta, each as
///   *varbits* (7-bit length L, then L bits) of its zigzag form.
/// - the residuals in **groups** of `groupSize` (the last may be shorter), each with a 3-bit mode and a
///   7-bit width W (0…64), chosen per group as the cheapest of:
///   - `packed`: each residual's zigzag form in W bits. A regular clock's delta of delta is 0 everywhere:
///     W = 0 and a group of 128 timestamps costs 10 bits.
///   - `unsigned`: each residual's two's-complement bits in W bits — raw 0/1 flags and indices.
///   - `offset` (frame of reference): the group minimum B as varbits of its zigzag form, then each
///     residual minus B in W bits. Wins for one-sided residuals (a battery draining).
///   - `sparse`: per residual one bit, 0 for a zero residual, else 1 and its zigzag form minus 1 in W bits.
///     Wins for mostly-constant series (a position at 2 decimals that moves every few samples).
///   - `positions`: the number N (1…128) of nonzero residuals minus 1 in 7 bits, then per nonzero
///     residual its index in the group (7 bits, increasing) and its zigzag form minus 1 in W bits. Wins
///     when changes are rare: a flag that flips once costs 10 + 7 + 7 + W bits for the group.
///   - `patched` (PFOR): a second width H (7 bits), the number N (1…128) of exceptions minus 1 and the
///     first exception's index (7 bits each), then each residual's zigzag form in W bits, an exception's
///     followed by its high bits (H) and the next exception's index. A speed that hits its limit once
///     no longer widens every residual of the group.
///
/// Bit packing rather than an entropy coder because the store decodes millions of points per query:
/// decoding is one bounded read, a shift and an add per value.
enum IntegerCodec {
    /// A block's time stream: the times' range (nil when empty) and the times as offsets from its start,
    /// encoded — what every block kind stores the same way.
    static func encodeTimes(_ times: [Int64]) -> (range: ClosedRange<Int64>?, bytes: [UInt8]) {
        var range: ClosedRange<Int64>?
        if var low = times.first {
            var high = low
            for time in times {
                low = min(low, time)
                high = max(high, time)
            }
            range = low...high
        }
        let minimum = range?.lowerBound ?? 0
        var writer = BitWriter(reservingBytes: times.count / 4 + 16)
        encode(times.map { $0 &- minimum }, into: &writer)
        return (range, writer.finish())
    }

    /// Residuals per group: larger groups amortize the header, smaller ones adapt faster. On the tsbench
    /// port (telemetry compression tests) 32 / 64 / 128 / 256 gave 0.873 / 0.837 / 0.809 / 0.814 bytes per
    /// value in 120-point blocks and 0.668 / 0.629 / 0.609 / 0.598 in 720-point blocks; that data is
    /// stationary, real series less so, hence 128 rather than 256.
    static let groupSize = 128
    static let orderBits = 2
    static let modeBits = 3
    static let widthBits = 7
    static let groupHeaderBits = modeBits + widthBits
    /// Bits of an index within a group (and of a count of positions minus 1).
    static let positionBits = BlockFormat.bitWidth(UInt64(groupSize - 1))

    enum Mode: UInt64 {
        case packed = 0, unsigned = 1, offset = 2, sparse = 3, positions = 4, patched = 5
    }

    /// How one group is written and what it costs.
    struct GroupPlan {
        var mode: Mode
        var width: Int
        /// `offset`: the base; `patched`: the width of the exceptions' high bits.
        var base: Int64 = 0
        var bits: Int
    }

    /// The fewest bits a stream of `count` values can take: the order and one header per group (a
    /// decoder checks a block's claimed count against its length with this before reserving memory).
    static func minimumBits(count: Int) -> Int {
        guard count > 0 else { return 0 }
        let residuals = max(0, count - 2)
        return orderBits + groupHeaderBits * ((residuals + groupSize - 1) / groupSize)
    }

    /// Appends `values` as a stream, at the cheapest order or (for tests) at `order`.
    static func encode(_ values: [Int64], order: Int? = nil, into writer: inout BitWriter) {
        let count = values.count
        guard count > 0 else { return }
        var deltas = [Int64](repeating: 0, count: max(0, count - 1))
        for i in 1..<max(1, count) { deltas[i - 1] = values[i] &- values[i - 1] }
        var deltasOfDeltas = [Int64](repeating: 0, count: max(0, count - 2))
        for i in 1..<max(1, deltas.count) { deltasOfDeltas[i - 1] = deltas[i] &- deltas[i - 1] }

        func prefixBits(_ order: Int) -> Int {
            var bits = orderBits
            if order >= 1 { bits += widthBits + BlockFormat.bitWidth(BlockFormat.zigzag(values[0])) }
            if order >= 2, count >= 2 { bits += widthBits + BlockFormat.bitWidth(BlockFormat.zigzag(deltas[0])) }
            return bits
        }
        let candidates = [values, deltas, deltasOfDeltas]
        var best = 0, bestBits = Int.max
        for (candidate, residuals) in candidates.enumerated() where order == nil || order == candidate {
            let bits = prefixBits(candidate) + cost(of: residuals)
            if bits < bestBits { (best, bestBits) = (candidate, bits) }
        }

        writer.write(UInt64(best), bits: orderBits)
        if best >= 1 { writer.writeVarbits(BlockFormat.zigzag(values[0])) }
        if best >= 2, count >= 2 { writer.writeVarbits(BlockFormat.zigzag(deltas[0])) }
        writeGroups(candidates[best], into: &writer)
    }

    /// Bits the groups of `residuals` take.
    static func cost(of residuals: [Int64]) -> Int {
        var bits = 0
        var start = 0
        while start < residuals.count {
            let end = min(start + groupSize, residuals.count)
            bits += plan(residuals, start..<end).bits
            start = end
        }
        return bits
    }

    /// The cheapest way to write `residuals[range]`.
    static func plan(_ residuals: [Int64], _ range: Range<Int>) -> GroupPlan {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 65) { widths in
            widths.initialize(repeating: 0)
            var maxZigzag: UInt64 = 0, maxNonzero: UInt64 = 0, nonzero = 0, maxUnsigned: UInt64 = 0
            var low = Int64.max, high = Int64.min
            for i in range {
                let r = residuals[i]
                let z = BlockFormat.zigzag(r)
                maxZigzag = max(maxZigzag, z)
                maxUnsigned = max(maxUnsigned, UInt64(bitPattern: r))
                widths[BlockFormat.bitWidth(z)] += 1
                if z != 0 {
                    nonzero += 1
                    maxNonzero = max(maxNonzero, z - 1)
                }
                low = min(low, r)
                high = max(high, r)
            }
            let n = range.count
            let packedWidth = BlockFormat.bitWidth(maxZigzag)
            var best = GroupPlan(mode: .packed, width: packedWidth, bits: groupHeaderBits + n * packedWidth)
            func consider(_ plan: GroupPlan) {
                if plan.bits < best.bits { best = plan }
            }
            let unsignedWidth = BlockFormat.bitWidth(maxUnsigned)
            consider(GroupPlan(mode: .unsigned, width: unsignedWidth, bits: groupHeaderBits + n * unsignedWidth))
            let offsetWidth = BlockFormat.bitWidth(UInt64(bitPattern: high &- low))
            let baseBits = widthBits + BlockFormat.bitWidth(BlockFormat.zigzag(low))
            consider(GroupPlan(mode: .offset, width: offsetWidth, base: low, bits: groupHeaderBits + baseBits + n * offsetWidth))
            let sparseWidth = BlockFormat.bitWidth(maxNonzero)
            consider(GroupPlan(mode: .sparse, width: sparseWidth, bits: groupHeaderBits + n + nonzero * sparseWidth))
            if nonzero > 0 {
                let bits = groupHeaderBits + positionBits + nonzero * (positionBits + sparseWidth)
                consider(GroupPlan(mode: .positions, width: sparseWidth, bits: bits))
            }
            // Patched: every narrower width, with the residuals wider than it as exceptions.
            var exceptions = 0
            var width = packedWidth
            while width > 0 {
                exceptions += widths[width]
                width -= 1
                let highWidth = packedWidth - width
                let bits = groupHeaderBits + widthBits + 2 * positionBits + n * width + exceptions * (positionBits + highWidth) - positionBits
                consider(GroupPlan(mode: .patched, width: width, base: Int64(highWidth), bits: bits))
            }
            return best
        }
    }

    private static func writeGroups(_ residuals: [Int64], into writer: inout BitWriter) {
        var start = 0
        while start < residuals.count {
            let end = min(start + groupSize, residuals.count)
            let plan = plan(residuals, start..<end)
            writer.write(plan.mode.rawValue, bits: modeBits)
            writer.write(UInt64(plan.width), bits: widthBits)
            switch plan.mode {
            case .packed:
                for i in start..<end { writer.write(BlockFormat.zigzag(residuals[i]), bits: plan.width) }
            case .unsigned:
                for i in start..<end { writer.write(UInt64(bitPattern: residuals[i]), bits: plan.width) }
            case .offset:
                writer.writeVarbits(BlockFormat.zigzag(plan.base))
                for i in start..<end { writer.write(UInt64(bitPattern: residuals[i] &- plan.base), bits: plan.width) }
            case .sparse:
                for i in start..<end {
                    let z = BlockFormat.zigzag(residuals[i])
                    writer.write(bit: z != 0)
                    if z != 0 { writer.write(z - 1, bits: plan.width) }
                }
            case .positions:
                let indices = (start..<end).filter { residuals[$0] != 0 }
                writer.write(UInt64(indices.count - 1), bits: positionBits)
                for i in indices {
                    writer.write(UInt64(i - start), bits: positionBits)
                    writer.write(BlockFormat.zigzag(residuals[i]) - 1, bits: plan.width)
                }
            case .patched:
                let highWidth = Int(plan.base)
                let indices = (start..<end).filter { BlockFormat.bitWidth(BlockFormat.zigzag(residuals[$0])) > plan.width }
                writer.write(UInt64(highWidth), bits: widthBits)
                writer.write(UInt64(indices.count - 1), bits: positionBits)
                writer.write(UInt64(indices[0] - start), bits: positionBits)
                var next = 1
                for i in start..<end {
                    let z = BlockFormat.zigzag(residuals[i])
                    writer.write(z, bits: plan.width)
                    guard next <= indices.count, i == indices[next - 1] else { continue }
                    writer.write(z >> UInt64(plan.width), bits: highWidth)
                    if next < indices.count { writer.write(UInt64(indices[next] - start), bits: positionBits) }
                    next += 1
                }
            }
            start = end
        }
    }
}
