//! quotes: being written (skeleton so the workspace compiles).

use crate::Db;

/// The quotes API, from [`Db::quotes`].
#[derive(Debug, Clone, Copy)]
pub struct Quotes<'a> {
    db: &'a Db,
}

impl<'a> Quotes<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// The handle this API works on.
    pub fn db(&self) -> &'a Db {
        self.db
    }
}
