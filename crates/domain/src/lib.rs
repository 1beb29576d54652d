//! quotedb's domain values and pure functions, below the repository and the seeds: newtype ids,
//! validated value types, input checks that mirror the database's rules, and rating (the rate
//! context of a quote and the pure pricing function). No I/O: the repository reads and writes,
//! the volume generator prices with the same [`rating::price`].

pub mod ids;
pub mod input;
pub mod quotes;
pub mod rating;
pub mod types;

pub use ids::*;
pub use input::InvalidInput;
pub use types::{Email, QuoteNumber, StateCode, Vin, Zip};
