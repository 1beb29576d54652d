//! quotedb-repository: the typed API other crates use to read and write quotedb.
