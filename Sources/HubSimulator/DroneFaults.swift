/// A fault that happened to a drone, as kept in `DroneModel.faultLog`.
///
/// Faults arrive as a Poisson process (`DroneSettings.faultsPerHour` per drone, drawn once a simulated
/// second, the kind uniformly), or by `DroneModel.injectFault(_:)`. At most one is active at a time; a
/// kind that needs flight is skipped when drawn on the ground.
public struct DroneFault: Sendable, Hashable {
    /// What goes wrong.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The engine temperature climbs to 105…130 °C within about a minute, stays 2…5 min, then falls
        /// back with the normal lag: a spike against the drone's own history. In flight only.
        case overheating
        /// The battery level drops at once by 0.12…0.25 (not below 0). Instantaneous. In flight only.
        case batteryDrop
        /// The drone sends nothing (`isSilent`) for 90…300 s while it flies on. Any time.
        case silent
        /// The current delivery (or, when it is too late or too far for this one, the next) is sent to a
        /// point inside the nearest reachable no-fly zone; the drone delivers there and returns. The fault
        /// ends on landing. Triggered in flight only; logged when the destination is replaced.
        case noFlyZone

        /// Whether the fault can only begin in the air.
        public var needsFlight: Bool { self != .silent }
    }

    /// What went wrong.
    public var kind: Kind
    /// When: simulated milliseconds since 1970 UTC.
    public var time: Int64
    /// The zone flown into, for `noFlyZone`.
    public var zoneID: String?

    /// A log entry.
    public init(kind: Kind, time: Int64, zoneID: String? = nil) {
        self.kind = kind
        self.time = time
        self.zoneID = zoneID
    }
}

/// The fault a drone is in, with what is left of it.
enum ActiveFault: Sendable, Hashable {
    case overheating(peak: Double, remaining: Int)
    case silent(remaining: Int)
    /// `applied` once the destination has been replaced.
    case noFlyZone(applied: Bool)
}

extension DroneModel {
    /// How many entries `faultLog` keeps.
    public static let faultLogLimit = 100

    /// Whether the drone sends nothing now (a `silent` fault lasts).
    public var isSilent: Bool {
        if case .silent? = currentFault { return true }
        return false
    }

    /// The fault in progress, if any (`batteryDrop` is instantaneous and never in progress).
    public var activeFault: DroneFault.Kind? {
        switch currentFault {
        case .overheating?: .overheating
        case .silent?: .silent
        case .noFlyZone?: .noFlyZone
        case nil: nil
        }
    }

    /// Starts a fault now, as if drawn by the fault process (for demos, tests and a "fault" direct
    /// method). False when another fault is active or the kind needs flight and the drone is on the ground.
    @discardableResult
    public mutating func injectFault(_ kind: DroneFault.Kind) -> Bool {
        guard currentFault == nil, !kind.needsFlight || phase.isAirborne else { return false }
        switch kind {
        case .overheating:
            currentFault = .overheating(peak: rng.uniform(105...130), remaining: 60 + rng.integer(in: 120...300))
            record(.overheating)
        case .batteryDrop:
            batteryLevel = max(0, batteryLevel - rng.uniform(0.12...0.25))
            record(.batteryDrop)
        case .silent:
            currentFault = .silent(remaining: rng.integer(in: 90...300))
            record(.silent)
        case .noFlyZone:
            currentFault = .noFlyZone(applied: false)
            if phase == .takingOff || phase == .enRoute { _ = applyZoneFault() }
        }
        return true
    }

    /// Counts down the active fault, or draws whether a new one begins this second.
    mutating func stepFaults() {
        switch currentFault {
        case .overheating(let peak, let remaining)?:
            currentFault = remaining > 1 ? .overheating(peak: peak, remaining: remaining - 1) : nil
        case .silent(let remaining)?:
            currentFault = remaining > 1 ? .silent(remaining: remaining - 1) : nil
        case .noFlyZone?:
            break
        case nil:
            guard settings.faultsPerHour > 0, rng.unit() < settings.faultsPerHour / 3_600 else { return }
            let kind: DroneFault.Kind = switch rng.integer(in: 0...3) {
            case 0: .overheating
            case 1: .batteryDrop
            case 2: .silent
            default: .noFlyZone
            }
            injectFault(kind)
        }
    }

    /// Sends the delivery to a seeded point within 120 m of the centre of the nearest no-fly zone that the
    /// battery can reach and return from. False (nothing changes) when none can be reached.
    mutating func applyZoneFault() -> Bool {
        let budget = roundTripBudget()
        var chosen: NoFlyZone?
        var nearest = Double.infinity
        for zone in zones {
            let center = zone.center
            let out = position.distance(to: center)
            if out < nearest, out + center.distance(to: homeDepot) <= budget {
                chosen = zone
                nearest = out
            }
        }
        guard let zone = chosen else { return false }
        customerLocation = zone.center.offset(north: rng.uniform(-120...120), east: rng.uniform(-120...120))
        if phase == .enRoute { leg = Leg(from: position, to: customerLocation) }
        currentFault = .noFlyZone(applied: true)
        record(.noFlyZone, zoneID: zone.id)
        return true
    }

    private mutating func record(_ kind: DroneFault.Kind, zoneID: String? = nil) {
        if faultLog.count >= Self.faultLogLimit { faultLog.removeFirst(faultLog.count - Self.faultLogLimit + 1) }
        faultLog.append(DroneFault(kind: kind, time: clock, zoneID: zoneID))
    }
}
