//! admin: being written (skeleton so the workspace compiles).

use crate::Db;

/// The admin API, from [`Db::admin`].
#[derive(Debug, Clone, Copy)]
pub struct Admin<'a> {
    db: &'a Db,
}

impl<'a> Admin<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// The handle this API works on.
    pub fn db(&self) -> &'a Db {
        self.db
    }
}
