//! security: being written (skeleton so the workspace compiles).

use crate::Db;

/// The security API, from [`Db::security`].
#[derive(Debug, Clone, Copy)]
pub struct Security<'a> {
    db: &'a Db,
}

impl<'a> Security<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// The handle this API works on.
    pub fn db(&self) -> &'a Db {
        self.db
    }
}
