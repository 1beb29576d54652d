//! rating: being written (skeleton so the workspace compiles).

use crate::Db;

/// The rating API, from [`Db::rating`].
#[derive(Debug, Clone, Copy)]
pub struct Rating<'a> {
    db: &'a Db,
}

impl<'a> Rating<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// The handle this API works on.
    pub fn db(&self) -> &'a Db {
        self.db
    }
}
