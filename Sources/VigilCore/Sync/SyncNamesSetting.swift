/// Where `synchronous_standby_names` comes from on this node.
public enum SyncNamesSetting: Sendable, Equatable {
    /// Vigil's value while synchronous mode is on (nil: the parameter is removed, so no commit waits).
    case managed(String?)
    /// The node's own configuration (`postgresql.parameters`), as when synchronous mode is off.
    case configured
}
