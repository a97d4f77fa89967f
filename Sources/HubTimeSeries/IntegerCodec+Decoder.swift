extension IntegerCodec {
    /// Reads a stream without allocating: a value at a time (`next`) or a group at a time (`nextBatch`,
    /// `decode`, the fast path).
    ///
    /// The caller knows the count (from the block header) and reads at most that many values; a stream
    /// that ends early or holds an impossible order, mode, width or position throws `.corrupt`.
    struct Decoder {
        private let order: Int
        /// First values still to hand out before residuals start (the order's prefix).
        private var prefixLeft: Int
        private var previous: Int64 = 0
        private var delta: Int64 = 0
        /// Residuals not yet read, in the whole stream and in the current group.
        private var residualsLeft: Int
        private var groupLeft = 0
        private var mode = Mode.packed
        private var width = 0
        private var base: Int64 = 0
        private var highWidth = 0
        /// `positions` and `patched` modes: the current group's length, the index of the next residual in
        /// it, the index of the next listed one (`Int.max` when none is left) and how many are left.
        private var groupLength = 0
        private var groupIndex = 0
        private var nextPosition = Int.max
        private var positionsLeft = 0

        /// Reads the stream's order and prefix; for `count` 0 reads nothing.
        init(count: Int, reader: inout BitReader) throws(TimeSeriesError) {
            guard count > 0 else {
                order = 0
                prefixLeft = 0
                residualsLeft = 0
                return
            }
            order = Int(try reader.read(bits: IntegerCodec.orderBits))
            guard order <= 2 else { throw TimeSeriesError(.corrupt, "an integer stream has an unknown order") }
            prefixLeft = min(order, count)
            residualsLeft = count - prefixLeft
            if order >= 1 { previous = BlockFormat.unzigzag(try reader.readVarbits()) }
            if order >= 2, count >= 2 { delta = BlockFormat.unzigzag(try reader.readVarbits()) }
        }

        @inline(__always)
        mutating func next(_ reader: inout BitReader) throws(TimeSeriesError) -> Int64 {
            switch order {
            case 0:
                return try residual(&reader)
            case 1:
                if prefixLeft > 0 {
                    prefixLeft = 0
                    return previous
                }
                previous &+= try residual(&reader)
                return previous
            default:
                if prefixLeft > 0 {
                    if prefixLeft == 2 {
                        prefixLeft = 1
                        return previous
                    }
                    prefixLeft = 0
                    previous &+= delta
                    return previous
                }
                delta &+= try residual(&reader)
                previous &+= delta
                return previous
            }
        }

        @inline(__always)
        private mutating func residual(_ reader: inout BitReader) throws(TimeSeriesError) -> Int64 {
            if groupLeft == 0 { try readGroupHeader(&reader) }
            groupLeft -= 1
            switch mode {
            case .packed:
                return BlockFormat.unzigzag(try reader.read(bits: width))
            case .sparse:
                guard try reader.readBit() else { return 0 }
                return BlockFormat.unzigzag(try reader.read(bits: width) &+ 1)
            case .offset:
                return base &+ Int64(bitPattern: try reader.read(bits: width))
            case .unsigned:
                return Int64(bitPattern: try reader.read(bits: width))
            case .positions:
                let index = groupIndex
                groupIndex += 1
                guard index == nextPosition else { return 0 }
                let value = BlockFormat.unzigzag(try reader.read(bits: width) &+ 1)
                positionsLeft -= 1
                nextPosition = positionsLeft > 0 ? try readPosition(&reader, after: index) : Int.max
                return value
            case .patched:
                let index = groupIndex
                groupIndex += 1
                var z = try reader.read(bits: width)
                guard index == nextPosition else { return BlockFormat.unzigzag(z) }
                z |= try reader.read(bits: highWidth) << UInt64(width)
                positionsLeft -= 1
                nextPosition = positionsLeft > 0 ? try readPosition(&reader, after: index) : Int.max
                return BlockFormat.unzigzag(z)
            }
        }

        /// The bulk path: decodes the next values — the order's prefix, or one whole group — into `out`
        /// (room for `IntegerCodec.groupSize` values) and returns how many, 0 at the end of the stream.
        /// The mode is decided once per group and the group's length checked once, so the inner loops are a
        /// read, a shift and an add. Not to be mixed with `next` on the same decoder.
        mutating func nextBatch(into out: UnsafeMutablePointer<Int64>, _ reader: inout BitReader) throws(TimeSeriesError) -> Int {
            if prefixLeft > 0 {
                let n = prefixLeft
                for j in 0..<n { out[j] = try next(&reader) }
                return n
            }
            guard residualsLeft > 0 else { return 0 }
            try readGroupHeader(&reader)
            let n = groupLength
            groupLeft = 0
            try readResiduals(into: out, n, &reader)
            switch order {
            case 0:
                break
            case 1:
                var value = previous
                for j in 0..<n {
                    value &+= out[j]
                    out[j] = value
                }
                previous = value
            default:
                var value = previous, step = delta
                for j in 0..<n {
                    step &+= out[j]
                    value &+= step
                    out[j] = value
                }
                (previous, delta) = (value, step)
            }
            return n
        }

        /// Decodes a whole stream of `count` values into `out` (room for `count`), adding `offset` to each.
        static func decode(
            count: Int, into out: UnsafeMutablePointer<Int64>, adding offset: Int64, _ reader: inout BitReader
        ) throws(TimeSeriesError) {
            var decoder = try IntegerCodec.Decoder(count: count, reader: &reader)
            var done = 0
            while done < count {
                // A batch never passes the stream's count, so it fits.
                let n = try decoder.nextBatch(into: out + done, &reader)
                guard n > 0 else { throw TimeSeriesError(.corrupt, "a block decodes to fewer points than it claims") }
                for j in done..<(done + n) { out[j] = offset &+ out[j] }
                done += n
            }
        }

        /// One group's `n` residuals, after its header.
        private mutating func readResiduals(into out: UnsafeMutablePointer<Int64>, _ n: Int, _ reader: inout BitReader) throws(TimeSeriesError) {
            let width = width
            switch mode {
            case .packed:
                try reader.ensure(bits: n * width)
                for j in 0..<n { out[j] = BlockFormat.unzigzag(reader.readUnchecked(bits: width)) }
            case .unsigned:
                try reader.ensure(bits: n * width)
                for j in 0..<n { out[j] = Int64(bitPattern: reader.readUnchecked(bits: width)) }
            case .offset:
                try reader.ensure(bits: n * width)
                let base = base
                for j in 0..<n { out[j] = base &+ Int64(bitPattern: reader.readUnchecked(bits: width)) }
            case .sparse:
                for j in 0..<n { out[j] = try reader.readBit() ? BlockFormat.unzigzag(try reader.read(bits: width) &+ 1) : 0 }
            case .positions:
                out.update(repeating: 0, count: n)
                while positionsLeft > 0 {
                    let index = nextPosition
                    out[index] = BlockFormat.unzigzag(try reader.read(bits: width) &+ 1)
                    positionsLeft -= 1
                    if positionsLeft > 0 { nextPosition = try readPosition(&reader, after: index) }
                }
            case .patched:
                // Low bits of every residual, the high bits of each exception, the indices after the first.
                try reader.ensure(bits: n * width + positionsLeft * (highWidth + IntegerCodec.positionBits) - IntegerCodec.positionBits)
                let highWidth = highWidth
                for j in 0..<n {
                    var z = reader.readUnchecked(bits: width)
                    if j == nextPosition {
                        z |= reader.readUnchecked(bits: highWidth) << UInt64(width)
                        positionsLeft -= 1
                        nextPosition = positionsLeft > 0 ? try readPosition(&reader, after: j) : Int.max
                    }
                    out[j] = BlockFormat.unzigzag(z)
                }
            }
        }

        private mutating func readGroupHeader(_ reader: inout BitReader) throws(TimeSeriesError) {
            guard residualsLeft > 0 else { throw TimeSeriesError(.corrupt, "an integer stream is read past its count") }
            guard let mode = Mode(rawValue: try reader.read(bits: IntegerCodec.modeBits)) else {
                throw TimeSeriesError(.corrupt, "an integer group has an unknown mode")
            }
            let width = Int(try reader.read(bits: IntegerCodec.widthBits))
            guard width <= 64 else { throw TimeSeriesError(.corrupt, "an integer group's bit width is out of range") }
            groupLength = min(IntegerCodec.groupSize, residualsLeft)
            residualsLeft -= groupLength
            groupLeft = groupLength
            switch mode {
            case .offset:
                base = BlockFormat.unzigzag(try reader.readVarbits())
            case .positions, .patched:
                if mode == .patched {
                    highWidth = Int(try reader.read(bits: IntegerCodec.widthBits))
                    guard width + highWidth <= 64 else { throw TimeSeriesError(.corrupt, "an integer group's bit width is out of range") }
                }
                positionsLeft = Int(try reader.read(bits: IntegerCodec.positionBits)) + 1
                guard positionsLeft <= groupLength else { throw TimeSeriesError(.corrupt, "an integer group has too many positions") }
                groupIndex = 0
                nextPosition = try readPosition(&reader, after: -1)
            case .packed, .unsigned, .sparse:
                break
            }
            self.mode = mode
            self.width = width
        }

        /// The index of the next nonzero residual in a `positions` group: after `previous`, inside the group.
        private func readPosition(_ reader: inout BitReader, after previous: Int) throws(TimeSeriesError) -> Int {
            let position = Int(try reader.read(bits: IntegerCodec.positionBits))
            guard position > previous, position < groupLength else {
                throw TimeSeriesError(.corrupt, "an integer group's positions are out of order")
            }
            return position
        }
    }
}
