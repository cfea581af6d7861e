// VigilLab: the guide's whole cluster on loopback, fault drills and the write probe.
// Its code arrives with the issue that builds it; the module exists now so the
// package layout (ARCHITECTURE.md) and its dependency graph are fixed from the start.
