//! Rating through the public API: resolving rates in one call (and each way it can fail), and
//! the pricing rules on known numbers.

mod cache;
mod price;
mod resolve;
