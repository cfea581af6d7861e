// VigilAPI: the Patroni-compatible REST API served from the agent's in-memory snapshot.
// Its code arrives with the issue that builds it; the module exists now so the
// package layout (ARCHITECTURE.md) and its dependency graph are fixed from the start.
