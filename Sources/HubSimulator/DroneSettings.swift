/// What every drone of a simulated fleet shares.
public struct DroneSettings: Sendable, Hashable {
    /// Faults per drone per hour (a Poisson process drawn once a simulated second); 0 disables faults.
    public var faultsPerHour: Double = 0.1
    /// Cruise height in metres above the depot's ground (at least 20 m is flown; deliveries hover at 10 m).
    public var cruiseAltitude: Double = 120
    /// Cruise ground speed in km/h; each delivery draws its own from this range (at least 3.6 km/h).
    public var cruiseSpeed: ClosedRange<Double> = 40...70

    /// The defaults: 0.1 faults per hour, 120 m cruise height, 40…70 km/h.
    public init() {}
}
