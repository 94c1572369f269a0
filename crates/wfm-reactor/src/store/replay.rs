//! What the outbox still keeps, for replaying the live feed from a sequence.

use super::{SqliteStore, StoreError};

impl SqliteStore {
    /// The oldest sequence still in the outbox (`None` when it is empty: all pruned, or
    /// nothing committed yet).
    pub async fn oldest_sequence(&self) -> Result<Option<u64>, StoreError> {
        self.read(|c| {
            let min: Option<i64> = c.query_row("SELECT min(seq) FROM outbox", [], |r| r.get(0))?;
            Ok(min.map(|s| s as u64))
        })
        .await
    }
}
