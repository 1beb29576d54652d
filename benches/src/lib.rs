//! Shared setup of the quotedb benches.
