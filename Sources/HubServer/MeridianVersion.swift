/// The version `meridian --version` prints.
public enum MeridianVersion {
    public static let current = "0.1.0-dev"
}
