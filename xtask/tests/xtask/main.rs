//! The xtask commands, tested from their library functions against a real server.

mod compat;
mod db_reset;
mod migrate;
mod rehearse;
mod replica;
