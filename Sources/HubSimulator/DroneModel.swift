/// One simulated delivery drone of Fabrikam's fleet: a pure state machine driven by time.
///
/// The drone flies `charging → takingOff → enRoute → delivering → returning → landing → charging` over
/// and over, from its depot to seeded customers and back. Time is an input: `advance(to:)` runs fixed
/// one-second steps, so the state at a time depends only on the seed, the index and that time, never on
/// how the caller split the interval. Steps do no allocation; JSON is built only when a message is asked
/// for (`flightMessage()`, `statusMessage()`, see DroneMessages.swift). Faults are in DroneFaults.swift.
public struct DroneModel: Sendable {
    // MARK: Flight constants (SI units: m, s, m/s, m/s²; battery levels as fractions of full capacity)

    /// One simulation step, in milliseconds.
    public static let stepMilliseconds: Int64 = 1_000
    /// The firmware version drones report in their twin.
    public static let firmwareVersion = "2.3.1"
    static let climbRate = 5.0
    static let descentRate = 3.0
    static let horizontalAcceleration = 2.0
    /// Height above ground at which a parcel is lowered.
    static let deliveryHeight = 10.0
    static let minimumCruiseHeight = 20.0
    /// Within this distance (m) of a leg's end the drone has arrived.
    static let arrivalTolerance = 0.5
    /// 0 → 1 in 10 minutes.
    static let chargePerSecond = 1.0 / 600
    /// Climbing, descending and hovering: 0.06 % of capacity per second.
    static let verticalDrain = 0.000_6
    /// Level flight: 0.035 % per second.
    static let cruiseDrain = 0.000_35
    /// Below this level en route the drone turns back.
    static let turnBackLevel = 0.15
    /// What a planned trip leaves in the battery on landing (above `turnBackLevel`, for the slack of the
    /// acceleration phases).
    static let planningReserve = 0.20
    static let customerDistance = 1_000.0...8_000.0
    /// The least distance between a planned flight path and a no-fly zone.
    static let zoneMargin = 150.0
    static let hoverSeconds = 20...60
    static let turnaroundSeconds = 120...600
    static let startDelaySeconds = 0...120
    /// A charging drone leaves at this level, or after its turnaround at `minimumDepartLevel`.
    static let departLevel = 0.95
    static let minimumDepartLevel = 0.5
    /// 1 − e^(−1/60): the engine temperature's first-order lag with a 60 s time constant, per step.
    static let thermalLag = 0.016_528_546
    /// 1 − e^(−1/15): 15 s while overheating, so the peak is (nearly) reached within a minute.
    static let overheatLag = 0.064_493_015

    // MARK: Identity and fixed, seeded traits

    /// The drone's position in the fleet (0-based).
    public let index: Int
    /// `Simulated.drone-GG.NN`, see `deviceID(index:)`.
    public let deviceID: String
    /// The fleet's settings this drone was made with.
    public let settings: DroneSettings
    /// The depot the drone takes off from, returns to and charges at.
    public let homeDepot: GeoPoint
    /// The depot's ground altitude, metres above sea level (customers are on the same level).
    public let groundAltitude: Double
    let area: FlightArea
    let zones: [NoFlyZone]
    let cruiseHeight: Double
    /// Keys the per-message sensor noise (see `DroneRandom.noise`).
    let noiseKey: UInt64
    let ambientTemperature: Double
    /// The engine's steady temperature in level flight.
    let engineTemperature: Double
    var rng: DroneRandom

    // MARK: State

    /// The model's time, milliseconds since 1970 UTC: the latest time it was advanced to.
    public internal(set) var time: Int64
    /// The time of the last simulated step (`time` rounded down to whole steps since the start).
    var clock: Int64
    /// Where the drone is in its delivery cycle.
    public internal(set) var phase: FlightPhase = .charging
    /// Latitude and longitude now.
    public internal(set) var position: GeoPoint
    /// Battery charge, 0…1 of full capacity.
    public internal(set) var batteryLevel: Double
    /// The current delivery's id (the last one's while charging; the first one's before any delivery).
    public internal(set) var deliveryID: String
    /// Parcels handed over so far (counted when the hover at the customer ends).
    public internal(set) var deliveries = 0
    /// Height above the depot's ground, metres.
    public internal(set) var heightAboveGround = 0.0
    /// The current (or last) delivery's destination.
    public internal(set) var customerLocation: GeoPoint
    /// Horizontal ground speed, m/s.
    var speed = 0.0
    /// |Δspeed| over the last step, m/s².
    var speedChange = 0.0
    /// Engine temperature without sensor noise, °C.
    var engineTemp: Double
    var hasDeparted = false
    var cruiseSpeedMS: Double
    var leg: Leg
    var stage = DeliveryStage.descending
    var hoverRemaining = 0
    /// Seconds on the ground since landing (or since the start).
    var groundSeconds = 0
    /// The start delay, then each turnaround: the least time on the ground before leaving below 0.95.
    var departAfter: Int
    var currentFault: ActiveFault?
    /// The faults that happened, oldest first, at most `faultLogLimit`.
    public internal(set) var faultLog: [DroneFault] = []
    var lastReportedMode: String?

    /// A drone at its depot, charging, at `startTime` (milliseconds since 1970 UTC). It draws a battery
    /// level of 0.6…1.0 and leaves on its first delivery after a start delay of 0…120 s.
    public init(index: Int, layout: FleetLayout, settings: DroneSettings = DroneSettings(), seed: UInt64, startTime: Int64) {
        var rng = DroneRandom(seed: DroneRandom.mix(seed, 0x4452_4F4E_45), stream: UInt64(bitPattern: Int64(index)))  // "DRONE"
        self.index = index
        deviceID = Self.deviceID(index: index)
        self.settings = settings
        homeDepot = layout.depot(forDrone: index)
        groundAltitude = layout.groundAltitude(forDrone: index)
        area = layout.area
        zones = layout.noFlyZones
        cruiseHeight = max(Self.minimumCruiseHeight, settings.cruiseAltitude)
        noiseKey = rng.next()
        ambientTemperature = rng.uniform(25...35)
        engineTemperature = rng.uniform(62...76)
        engineTemp = ambientTemperature + rng.uniform(0...3)
        batteryLevel = rng.uniform(0.6...1.0)
        departAfter = rng.integer(in: Self.startDelaySeconds)
        deliveryID = rng.uuidV4()
        position = homeDepot
        customerLocation = homeDepot
        cruiseSpeedMS = max(1, settings.cruiseSpeed.lowerBound / 3.6)
        leg = Leg(from: homeDepot, to: homeDepot)
        time = startTime
        clock = startTime
        self.rng = rng
    }

    /// Drone `index`'s device id: `Simulated.drone-GG.NN` with GG = index / 100 + 1 (at least two digits)
    /// and NN = index % 100 (two digits): 0 → `Simulated.drone-01.00`, 135 → `Simulated.drone-02.35`.
    /// Negative indexes are taken as 0.
    public static func deviceID(index: Int) -> String {
        let i = max(0, index)
        let group = i / 100 + 1, number = i % 100
        return "Simulated.drone-" + (group < 10 ? "0" : "") + String(group) + "." + (number < 10 ? "0" : "") + String(number)
    }

    // MARK: Derived values

    /// Altitude in metres above sea level: the depot's ground altitude plus the height.
    public var altitude: Double { groundAltitude + heightAboveGround }
    /// Horizontal ground speed in km/h.
    public var velocity: Double { speed * 3.6 }

    // MARK: Time

    /// Advances the simulation to `time` (ms since 1970 UTC) in fixed one-second steps counted from the
    /// start time. A remainder shorter than a step only moves `time` (it is simulated once the next whole
    /// step is reached), so `advance(to: t)` once equals any sequence of smaller advances ending at `t`.
    /// Times before the model's `time` are ignored. Cost: O(seconds advanced), no allocation per step.
    public mutating func advance(to time: Int64) {
        guard time > self.time else { return }
        while time - clock >= Self.stepMilliseconds { step() }
        self.time = time
    }

    /// The cloud's `returnToBase` command (a C2D `{"command":"returnToBase"}` or the direct method): abort the
    /// delivery and fly straight back to the depot. Refused on the ground and when already returning or
    /// landing; `detail` says why, or how far the depot is.
    public mutating func returnToBase() -> (accepted: Bool, detail: String) {
        switch phase {
        case .charging:
            return (false, "on the ground at the depot")
        case .returning, .landing:
            return (false, "already returning to the depot")
        case .takingOff, .enRoute, .delivering:
            turnBack()
            return (true, "returning to the depot, \(Int(leg.length.rounded())) m away")
        }
    }

    // MARK: Steps

    /// One second of flight.
    mutating func step() {
        clock += Self.stepMilliseconds
        let previousSpeed = speed
        var drain = 0.0
        switch phase {
        case .charging:
            batteryLevel = min(1, batteryLevel + Self.chargePerSecond)
            groundSeconds += 1
            if readyToDepart { startDelivery() }
        case .takingOff:
            drain = Self.verticalDrain
            heightAboveGround = min(cruiseHeight, heightAboveGround + Self.climbRate)
            if heightAboveGround >= cruiseHeight {
                leg = Leg(from: position, to: customerLocation)
                phase = .enRoute
            }
        case .enRoute:
            drain = Self.cruiseDrain
            if flyLeg() {
                stage = .descending
                phase = .delivering
            }
        case .delivering:
            drain = Self.verticalDrain
            stepDelivering()
        case .returning:
            if heightAboveGround < cruiseHeight, leg.remaining > Self.arrivalTolerance {
                drain = Self.verticalDrain
                heightAboveGround = min(cruiseHeight, heightAboveGround + Self.climbRate)
            } else {
                drain = Self.cruiseDrain
                if flyLeg() { phase = .landing }
            }
        case .landing:
            drain = Self.verticalDrain
            heightAboveGround = max(0, heightAboveGround - Self.descentRate)
            if heightAboveGround <= 0 { land() }
        }
        speedChange = abs(speed - previousSpeed)
        batteryLevel = max(0, batteryLevel - drain)
        updateTemperature()
        stepFaults()
        if phase == .enRoute, batteryLevel < Self.turnBackLevel { turnBack() }
    }

    private var readyToDepart: Bool {
        guard hasDeparted else { return groundSeconds >= departAfter }
        return batteryLevel >= Self.departLevel || (groundSeconds >= departAfter && batteryLevel >= Self.minimumDepartLevel)
    }

    /// Plans the next delivery and lifts off: a new delivery id (the first one was drawn at start), a
    /// cruise speed, a hover time, and a customer (a pending no-fly-zone fault picks it).
    private mutating func startDelivery() {
        if hasDeparted { deliveryID = rng.uuidV4() }
        hasDeparted = true
        cruiseSpeedMS = max(1, rng.uniform(settings.cruiseSpeed) / 3.6)
        hoverRemaining = rng.integer(in: Self.hoverSeconds)
        var zoneApplied = false
        if case .noFlyZone(applied: false)? = currentFault {
            zoneApplied = applyZoneFault()
            if !zoneApplied { currentFault = nil }  // no zone in reach: the fault lapses
        }
        if !zoneApplied { customerLocation = planCustomer() }
        phase = .takingOff
    }

    /// A seeded customer 1 km…8 km from the depot (less when the battery would not bring the drone back with
    /// the reserve), inside the area, whose straight path keeps `zoneMargin` from every no-fly zone.
    private mutating func planCustomer() -> GeoPoint {
        let reach = min(Self.customerDistance.upperBound, max(Self.customerDistance.lowerBound, roundTripBudget() / 2))
        let frame = LocalFrame(origin: homeDepot)
        let rings = zones.map { $0.ring.map(frame.project) }
        for _ in 0..<64 {
            let bearing = rng.uniform(0...GeoMath.fullTurn)
            let candidate = homeDepot.destination(bearing: bearing, distance: rng.uniform(Self.customerDistance.lowerBound...reach))
            guard area.contains(candidate) else { continue }
            let end = frame.project(candidate)
            if rings.allSatisfy({ Planar.distance(segment: .zero, end, toPolygon: $0) >= Self.zoneMargin }) { return candidate }
        }
        // Practically unreachable: 1 km towards the centre is inside the area and clear, as zones keep 2 km from depots.
        let towardsCenter = homeDepot.distance(to: area.center) > 1 ? homeDepot.bearing(to: area.center) : 0
        return homeDepot.destination(bearing: towardsCenter, distance: Self.customerDistance.lowerBound)
    }

    /// Metres of level flight at this delivery's cruise speed that the battery allows after a delivery's
    /// vertical work, keeping `planningReserve`.
    func roundTripBudget() -> Double {
        let verticalSeconds = cruiseHeight / Self.climbRate + (cruiseHeight - Self.deliveryHeight) / Self.descentRate
            + Double(Self.hoverSeconds.upperBound) + (cruiseHeight - Self.deliveryHeight) / Self.climbRate + cruiseHeight / Self.descentRate
        let spare = batteryLevel - Self.planningReserve - verticalSeconds * Self.verticalDrain
        return max(0, spare / Self.cruiseDrain * cruiseSpeedMS)
    }

    /// Moves along the leg for one step: accelerates at `horizontalAcceleration` to the cruise speed and
    /// brakes in time to stop at the end. Returns true on arrival (position exactly at the end, speed 0).
    private mutating func flyLeg() -> Bool {
        let remaining = leg.remaining
        let a = Self.horizontalAcceleration
        // Brake for the distance left after this step, planned at 3/4 of the rate so 1 s steps still stop smoothly.
        let limit = min(cruiseSpeedMS, (1.5 * a * max(0, remaining - speed)).squareRoot())
        let newSpeed = speed < limit ? min(speed + a, limit) : max(speed - a, limit)
        let move = (speed + newSpeed) / 2
        speed = newSpeed
        if remaining <= Self.arrivalTolerance || move >= remaining - Self.arrivalTolerance {
            leg.travelled = leg.length
            position = leg.target
            speed = 0
            return true
        }
        leg.travelled += move
        position = leg.origin.destination(bearing: leg.bearing, distance: leg.travelled)
        return false
    }

    private mutating func stepDelivering() {
        switch stage {
        case .descending:
            heightAboveGround = max(Self.deliveryHeight, heightAboveGround - Self.descentRate)
            if heightAboveGround <= Self.deliveryHeight { stage = .hovering }
        case .hovering:
            hoverRemaining -= 1
            if hoverRemaining <= 0 {
                deliveries += 1
                stage = .climbing
            }
        case .climbing:
            heightAboveGround = min(cruiseHeight, heightAboveGround + Self.climbRate)
            if heightAboveGround >= cruiseHeight {
                leg = Leg(from: position, to: homeDepot)
                phase = .returning
            }
        }
    }

    /// Heads straight back to the depot from wherever the drone is (keeping its speed; climbing first if
    /// it is below cruise height).
    private mutating func turnBack() {
        leg = Leg(from: position, to: homeDepot)
        phase = .returning
    }

    private mutating func land() {
        heightAboveGround = 0
        speed = 0
        position = homeDepot
        groundSeconds = 0
        departAfter = rng.integer(in: Self.turnaroundSeconds)
        phase = .charging
        if case .noFlyZone(applied: true)? = currentFault { currentFault = nil }
    }

    private mutating func updateTemperature() {
        if case .overheating(let peak, _)? = currentFault {
            engineTemp += (peak - engineTemp) * Self.overheatLag
            return
        }
        let target: Double = switch phase {
        case .charging: ambientTemperature
        case .enRoute, .returning: engineTemperature
        case .takingOff, .delivering, .landing: engineTemperature + 3  // hovering and climbing work harder
        }
        engineTemp += (target - engineTemp) * Self.thermalLag
    }
}

/// A straight (great-circle) flight from `origin` to `target`.
struct Leg: Sendable {
    var origin: GeoPoint
    var target: GeoPoint
    /// Initial bearing, radians clockwise from north.
    var bearing: Double
    var length: Double
    var travelled = 0.0

    init(from origin: GeoPoint, to target: GeoPoint) {
        self.origin = origin
        self.target = target
        bearing = origin.bearing(to: target)
        length = origin.distance(to: target)
    }

    var remaining: Double { length - travelled }
}

/// The steps of `FlightPhase.delivering`.
enum DeliveryStage: Sendable {
    case descending, hovering, climbing
}
