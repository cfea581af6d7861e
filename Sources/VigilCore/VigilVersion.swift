/// The version Vigil reports for itself (`vigil --version`, `vigilctl version`, member keys).
public enum VigilVersion {
    public static let string = "0.1.0"
}
