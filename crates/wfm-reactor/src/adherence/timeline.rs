//! One agent's scheduled activities as sorted intervals: what is scheduled at an instant,
//! and the next instant at which that can change.
//!
//! Built from the canonical stored schedules (every schedule the agent appears in), so a
//! schedule change is a new timeline, never an in-place edit. Instants are UTC
//! milliseconds; an activity covers `[start, start + length)`.

use super::Category;
use crate::diff::CanonicalAgentSchedule;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// What the schedule says at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    /// The activity code's category (`None`: the code is not resolved).
    pub category: Option<Category>,
    /// The activity code id.
    pub code_id: Option<String>,
    /// When this activity started.
    pub start: DateTime<Utc>,
    /// When it ends.
    pub end: DateTime<Utc>,
}

/// One activity interval.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Interval {
    start: i64,
    end: i64,
    category: Option<Category>,
    /// Shared by every interval of the code in this timeline (and the merged timelines
    /// built from it): one allocation per distinct code, not per activity. Every agent's
    /// five weeks were 254 MB of the 18,999-agent snapshot's heap peak with a `String`
    /// each (heaptrack, docs/performance.md).
    code_id: Option<Arc<str>>,
}

/// The shared copy of `code` among those already in `seen` (an agent's week has a
/// handful of distinct codes, so a linear search is cheapest).
fn interned(seen: &mut Vec<Arc<str>>, code: &str) -> Arc<str> {
    if let Some(c) = seen.iter().find(|c| &***c == code) {
        return c.clone();
    }
    let c: Arc<str> = Arc::from(code);
    seen.push(c.clone());
    c
}

/// An agent's scheduled activities, sorted by start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    intervals: Vec<Interval>,
    /// Every start and end, sorted and de-duplicated (the instants answers can change).
    boundaries: Vec<i64>,
}

fn millis(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp_millis())
}

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Timeline {
    /// The timeline of every schedule given (activities with an unparseable start or a
    /// non-positive length are skipped: they cover no instant).
    pub fn from_schedules<'a>(schedules: impl IntoIterator<Item = &'a CanonicalAgentSchedule>) -> Self {
        let mut intervals = Vec::new();
        let mut codes = Vec::new();
        for s in schedules {
            for a in s.shifts.iter().flat_map(|sh| &sh.activities) {
                let Some(start) = millis(&a.start_date) else {
                    continue;
                };
                let Some(len) = a.length_minutes.checked_mul(60_000).filter(|l| *l > 0) else {
                    continue;
                };
                let category = a
                    .activity_code
                    .as_ref()
                    .and_then(|c| c.category.as_deref())
                    .and_then(Category::parse);
                intervals.push(Interval {
                    start,
                    end: start.saturating_add(len),
                    category,
                    code_id: a.activity_code_id.as_deref().map(|c| interned(&mut codes, c)),
                });
            }
        }
        Self::from_intervals(intervals)
    }

    fn from_intervals(mut intervals: Vec<Interval>) -> Self {
        intervals.sort_by_key(|i| (i.start, i.end));
        let mut boundaries: Vec<i64> = intervals.iter().flat_map(|i| [i.start, i.end]).collect();
        boundaries.sort_unstable();
        boundaries.dedup();
        // Kept for as long as the schedule stands: no growth slack.
        intervals.shrink_to_fit();
        boundaries.shrink_to_fit();
        Self {
            intervals,
            boundaries,
        }
    }

    /// One timeline of several (an agent in several schedules: one per week, say).
    pub fn merged<'a>(parts: impl IntoIterator<Item = &'a Timeline>) -> Self {
        Self::from_intervals(
            parts
                .into_iter()
                .flat_map(|p| p.intervals.iter().cloned())
                .collect(),
        )
    }

    /// True when nothing is scheduled at all.
    pub fn is_empty(&self) -> bool {
        self.intervals.is_empty()
    }

    /// The activity scheduled at `t`; where activities overlap (two schedules covering the
    /// same time) the one that started last wins, ties by the later end.
    pub fn at(&self, t: DateTime<Utc>) -> Option<Scheduled> {
        let t = t.timestamp_millis();
        // Intervals starting after `t` cannot cover it.
        let upto = self.intervals.partition_point(|i| i.start <= t);
        self.intervals[..upto]
            .iter()
            .rev()
            .find(|i| i.end > t)
            .map(|i| Scheduled {
                category: i.category,
                code_id: i.code_id.as_deref().map(str::to_string),
                start: instant(i.start),
                end: instant(i.end),
            })
    }

    /// The first instant strictly after `t` at which [`Timeline::at`] may answer
    /// differently (an activity starts or ends); `None` when nothing changes after `t`.
    pub fn next_boundary(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let t = t.timestamp_millis();
        let i = self.boundaries.partition_point(|b| *b <= t);
        self.boundaries.get(i).copied().map(instant)
    }

    /// The activity after the one at `t` (the board's "next"): the first that starts after `t`.
    pub fn next_activity(&self, t: DateTime<Utc>) -> Option<Scheduled> {
        let ms = t.timestamp_millis();
        let i = self.intervals.partition_point(|iv| iv.start <= ms);
        self.intervals.get(i).map(|iv| Scheduled {
            category: iv.category,
            code_id: iv.code_id.as_deref().map(str::to_string),
            start: instant(iv.start),
            end: instant(iv.end),
        })
    }
}
