// VigilDCS: the coordination store: the DistributedStore protocol, EtcdStore over etcd's v3 JSON gateway, and InMemoryStore for tests and simulation.
// Its code arrives with the issue that builds it; the module exists now so the
// package layout (ARCHITECTURE.md) and its dependency graph are fixed from the start.
