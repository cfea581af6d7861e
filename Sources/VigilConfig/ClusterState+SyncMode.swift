import VigilCore

extension ClusterState {
    /// The synchronous mode the `config` key sets, read as the agents read it (`DynamicConfig`):
    /// what the REST API's switchover checks and `vigilctl list` go by.
    public var syncMode: SyncSettings.Mode {
        guard let config else { return .off }
        return DynamicConfig.read(json: config.value, key: "config").0.syncSettings.mode
    }
}
