//! Rebuild the crate (and so `MIGRATOR`) whenever a migration is added, removed or changed:
//! `sqlx::migrate!` embeds the files, but on stable Rust cargo only tracks files that already
//! existed when the macro ran, never a new one.
fn main() {
    println!("cargo::rerun-if-changed=migrations");
}
