// VigilPostgres: the PostgresInstance actor that bootstraps, runs, promotes, demotes and rewinds one PostgreSQL 18 data directory.
// Its code arrives with the issue that builds it; the module exists now so the
// package layout (ARCHITECTURE.md) and its dependency graph are fixed from the start.
