//! One agent's scheduled activities as sorted intervals: what is scheduled at an instant,
//! and the next instant at which that can change.
//!
//! Built from the canonical stored schedules (every schedule the agent appears in), so a
//! schedule change is a new timeline, never an in-place edit. Instants are UTC
//! milliseconds; an activity covers `[start, start + length)`.
//!
//! Why the shape: the engine holds every watched agent's published weeks for as long as
//! they stand (18,999 agents × 5 weeks in the scale bench), so a timeline is a list of
//! shared, immutable parts (one per schedule it was built from), each a packed slice of
//! 16-byte intervals whose activity codes are indexes into the part's own small table.
//! Merging an agent's parts ([`Timeline::merged`]) clones reference counts, so the per-
//! schedule parts the reactor keeps and the merged timeline the tracker decides on are
//! one copy (heaptrack census in docs/performance.md).

use super::Category;
use crate::diff::CanonicalAgentSchedule;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// What the schedule says at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    /// The activity code's category (`None`: the code is not resolved).
    pub category: Option<Category>,
    /// The activity code id (shared with the timeline: cloning it allocates nothing).
    pub code_id: Option<Arc<str>>,
    /// When this activity started.
    pub start: DateTime<Utc>,
    /// When it ends.
    pub end: DateTime<Utc>,
}

/// An interval's code index meaning "no activity code id".
const NO_CODE: u16 = u16::MAX;

/// One activity interval, packed (16 bytes): the end is `start + minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Interval {
    start: i64,
    minutes: u32,
    /// Index into the part's code table, or [`NO_CODE`].
    code: u16,
    category: Option<Category>,
}

impl Interval {
    fn end(&self) -> i64 {
        self.start.saturating_add(i64::from(self.minutes) * 60_000)
    }
}

/// The activities of the schedules one timeline was built from, sorted by (start, end).
#[derive(Debug, PartialEq, Eq)]
struct Part {
    intervals: Box<[Interval]>,
    /// Distinct activity code ids (an agent's week has a handful).
    codes: Box<[Arc<str>]>,
    /// The longest interval (ms): no interval starting before `t - longest` covers `t`.
    longest: i64,
}

impl Part {
    /// Intervals that start at or before `t` (the only ones that can cover it).
    fn started_by(&self, t: i64) -> usize {
        self.intervals.partition_point(|i| i.start <= t)
    }

    /// The interval covering `t` that started last (ties: the later end).
    fn covering(&self, t: i64) -> Option<&Interval> {
        let upto = self.started_by(t);
        self.intervals[..upto]
            .iter()
            .rev()
            .take_while(|i| i.start.saturating_add(self.longest) > t)
            .find(|i| i.end() > t)
    }

    /// The first start or end strictly after `t`.
    fn next_boundary(&self, t: i64) -> Option<i64> {
        let upto = self.started_by(t);
        let next_start = self.intervals.get(upto).map(|i| i.start);
        let next_end = self.intervals[..upto]
            .iter()
            .rev()
            .take_while(|i| i.start.saturating_add(self.longest) > t)
            .map(Interval::end)
            .filter(|e| *e > t)
            .min();
        next_start.into_iter().chain(next_end).min()
    }

    fn scheduled(&self, i: &Interval) -> Scheduled {
        Scheduled {
            category: i.category,
            code_id: self.codes.get(usize::from(i.code)).cloned(),
            start: instant(i.start),
            end: instant(i.end()),
        }
    }
}

/// An agent's scheduled activities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    parts: Vec<Arc<Part>>,
}

fn millis(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp_millis())
}

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The index of `code` in `codes`, added if new (linear: a week has a handful of codes).
/// Past `NO_CODE` distinct codes the id is dropped, never mixed up.
fn code_index(codes: &mut Vec<Arc<str>>, code: &str) -> u16 {
    if let Some(i) = codes.iter().position(|c| &**c == code) {
        return u16::try_from(i).unwrap_or(NO_CODE);
    }
    match u16::try_from(codes.len()) {
        Ok(i) if i < NO_CODE => {
            codes.push(Arc::from(code));
            i
        }
        _ => NO_CODE,
    }
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
                let Some(minutes) = u32::try_from(a.length_minutes).ok().filter(|m| *m > 0) else {
                    continue;
                };
                let category = a
                    .activity_code
                    .as_ref()
                    .and_then(|c| c.category.as_deref())
                    .and_then(Category::parse);
                let code = a
                    .activity_code_id
                    .as_deref()
                    .map_or(NO_CODE, |c| code_index(&mut codes, c));
                intervals.push(Interval {
                    start,
                    minutes,
                    code,
                    category,
                });
            }
        }
        if intervals.is_empty() {
            return Self::default();
        }
        intervals.sort_by_key(|i| (i.start, i.end()));
        let longest = intervals.iter().map(|i| i.end() - i.start).max().unwrap_or(0);
        Self {
            parts: vec![Arc::new(Part {
                intervals: intervals.into_boxed_slice(),
                codes: codes.into_boxed_slice(),
                longest,
            })],
        }
    }

    /// One timeline of several (an agent in several schedules: one per week, say). Shares
    /// their parts: no activity is copied.
    pub fn merged<'a>(parts: impl IntoIterator<Item = &'a Timeline>) -> Self {
        let mut merged: Vec<Arc<Part>> = parts.into_iter().flat_map(|t| t.parts.iter().cloned()).collect();
        merged.shrink_to_fit();
        Self { parts: merged }
    }

    /// True when nothing is scheduled at all.
    pub fn is_empty(&self) -> bool {
        self.parts.iter().all(|p| p.intervals.is_empty())
    }

    /// The activity scheduled at `t`; where activities overlap (two schedules covering the
    /// same time) the one that started last wins, ties by the later end, then by the part
    /// merged last.
    pub fn at(&self, t: DateTime<Utc>) -> Option<Scheduled> {
        let t = t.timestamp_millis();
        let mut best: Option<(&Part, &Interval)> = None;
        for p in &self.parts {
            if let Some(i) = p.covering(t)
                && best.is_none_or(|(_, b)| (i.start, i.end()) >= (b.start, b.end()))
            {
                best = Some((p, i));
            }
        }
        best.map(|(p, i)| p.scheduled(i))
    }

    /// The first instant strictly after `t` at which [`Timeline::at`] may answer
    /// differently (an activity starts or ends); `None` when nothing changes after `t`.
    pub fn next_boundary(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let t = t.timestamp_millis();
        self.parts
            .iter()
            .filter_map(|p| p.next_boundary(t))
            .min()
            .map(instant)
    }

    /// The activity after the one at `t` (the board's "next"): the first that starts after
    /// `t` (ties: the earlier end, then the part merged first).
    pub fn next_activity(&self, t: DateTime<Utc>) -> Option<Scheduled> {
        let ms = t.timestamp_millis();
        let mut best: Option<(&Part, &Interval)> = None;
        for p in &self.parts {
            if let Some(i) = p.intervals.get(p.started_by(ms))
                && best.is_none_or(|(_, b)| (i.start, i.end()) < (b.start, b.end()))
            {
                best = Some((p, i));
            }
        }
        best.map(|(p, i)| p.scheduled(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Interval>(), 16);
    }
}
