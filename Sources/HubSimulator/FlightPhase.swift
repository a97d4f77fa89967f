/// Where a drone is in its delivery cycle:
/// `charging → takingOff → enRoute → delivering → returning → landing → charging`.
/// A delivery is cut short by going to `returning` early: from `enRoute` when the battery runs low, or
/// from `takingOff`, `enRoute` or `delivering` on a `returnToBase` command.
public enum FlightPhase: String, Sendable, Hashable, CaseIterable {
    /// On the ground at the depot, charging; waiting for the next delivery.
    case charging
    /// Climbing straight up from the depot to cruise height.
    case takingOff
    /// Flying to the customer.
    case enRoute
    /// At the customer: descending to 10 m, hovering while the parcel is lowered, climbing back.
    case delivering
    /// Flying back to the depot (climbing to cruise height first if below it).
    case returning
    /// Descending onto the depot.
    case landing

    /// Whether the drone is in the air (`flightStatus` "1").
    public var isAirborne: Bool { self != .charging }

    /// The twin's `mode`: "charging", "delivering" (taking off, en route, delivering) or "returning"
    /// (returning, landing).
    public var mode: String {
        switch self {
        case .charging: "charging"
        case .takingOff, .enRoute, .delivering: "delivering"
        case .returning, .landing: "returning"
        }
    }
}
