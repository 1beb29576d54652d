//! users: being written (skeleton so the workspace compiles).

use crate::Db;

/// The users API (customers, agents, their drivers and vehicles), from [`Db::users`].
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    db: &'a Db,
}

impl<'a> Users<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// The handle this API works on.
    pub fn db(&self) -> &'a Db {
        self.db
    }
}
