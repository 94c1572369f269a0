//! The activity-code cache: one entry per business unit, filled single-flight.
//!
//! Every schedule fetch of a business unit needs its codes, and a snapshot or a burst
//! starts many fetches of one BU at once. Without coordination each of them misses the
//! empty cache and lists the codes itself (10 BUs × 5 schedules made 50 calls instead of
//! 10). Each BU therefore has an async lock: the first caller fetches while the others
//! wait for its answer. A refresh (asked for when a diff met an unknown code id) is
//! shared the same way: a caller that waited while another refresh of that BU completed
//! takes that answer instead of listing again.
//!
//! A refresh that was already under way when the caller met its unknown code may have
//! been answered just before the code existed; the code then stays unresolved in that
//! one event (its `activityCode` is null) and the next refresh picks it up. Failures are
//! not shared: a waiter whose leader failed tries once itself, so one transient error
//! does not fail every fetch queued behind it.

use super::{ActivityCodes, WfmClient, WfmError};
use crate::diff::ActivityCodeInfo;
use crate::genesys::wfm::BusinessUnitActivityCodeListing;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One business unit's slot: the codes once known, and how many listings completed
/// (bumped under the lock; read without it, so a caller can note it before waiting).
#[derive(Default)]
struct Slot {
    codes: tokio::sync::Mutex<Option<ActivityCodes>>,
    generation: AtomicU64,
}

/// Activity codes per business unit (cheap to clone; clones share the cache).
#[derive(Clone, Default)]
pub(super) struct CodesCache {
    slots: Arc<std::sync::Mutex<HashMap<String, Arc<Slot>>>>,
}

impl CodesCache {
    fn slot(&self, bu: &str) -> Arc<Slot> {
        self.slots
            .lock()
            .expect("codes cache lock")
            .entry(bu.to_string())
            .or_default()
            .clone()
    }
}

impl WfmClient {
    /// The business unit's activity codes, from the cache when present; concurrent
    /// callers for one BU share a single listing.
    pub async fn activity_codes(&self, bu: &str) -> Result<ActivityCodes, WfmError> {
        let slot = self.codes.slot(bu);
        let mut codes = slot.codes.lock().await;
        if let Some(c) = &*codes {
            return Ok(c.clone());
        }
        let fresh = self.list_activity_codes(bu).await?;
        *codes = Some(fresh.clone());
        slot.generation.fetch_add(1, Ordering::AcqRel);
        Ok(fresh)
    }

    /// Re-reads the business unit's activity codes (after `diff::resolve_codes` reported
    /// an unknown id), following a `downloadUrl` when the listing was too large.
    /// Concurrent refreshes of one BU share a single listing.
    pub async fn refresh_activity_codes(&self, bu: &str) -> Result<ActivityCodes, WfmError> {
        let slot = self.codes.slot(bu);
        let seen = slot.generation.load(Ordering::Acquire);
        let mut codes = slot.codes.lock().await;
        // A listing that completed while we waited is as fresh as one we would start.
        if let Some(c) = &*codes
            && slot.generation.load(Ordering::Acquire) > seen
        {
            return Ok(c.clone());
        }
        let fresh = self.list_activity_codes(bu).await?;
        *codes = Some(fresh.clone());
        slot.generation.fetch_add(1, Ordering::AcqRel);
        Ok(fresh)
    }

    async fn list_activity_codes(&self, bu: &str) -> Result<ActivityCodes, WfmError> {
        let route = "activitycodes.list";
        let path = format!(
            "{}/businessunits/{}/activitycodes",
            super::routes::WFM,
            super::routes::seg(bu)
        );
        let mut listing: BusinessUnitActivityCodeListing = self.get_json(route, &path).await?;
        if listing.entities.is_empty()
            && let Some(url) = listing.download_url.take()
        {
            listing = self
                .download_json(route, &url, &format!("business unit {bu} activity codes"))
                .await?;
        }
        let map: HashMap<String, ActivityCodeInfo> = listing
            .entities
            .into_iter()
            .filter_map(|c| {
                Some((
                    c.id?,
                    ActivityCodeInfo {
                        name: c.name,
                        category: c.category,
                    },
                ))
            })
            .collect();
        Ok(Arc::new(map))
    }
}
