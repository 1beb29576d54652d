//! realtime: being written (skeleton so the workspace compiles).

use crate::Db;

/// The realtime API, from [`Db::realtime`].
#[derive(Debug, Clone, Copy)]
pub struct Realtime<'a> {
    db: &'a Db,
}

impl<'a> Realtime<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// The handle this API works on.
    pub fn db(&self) -> &'a Db {
        self.db
    }
}
