// VigilAgent: the observe → decide → act loop that runs HAEngine decisions against the store and PostgreSQL.
// Its code arrives with the issue that builds it; the module exists now so the
// package layout (ARCHITECTURE.md) and its dependency graph are fixed from the start.
