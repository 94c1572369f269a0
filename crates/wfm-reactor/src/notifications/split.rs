//! Which combined topics were split, and which of their parts the server permitted.
//!
//! Why: a combined topic (`v2.users.{id}?presence&routingStatus`) is accepted or refused
//! as a whole. An OAuth client without `routing:agent:view` would lose presence too, so
//! when the server refuses a combined topic we subscribe its parts one by one (with
//! `ignoreErrors=true`): the permitted parts keep flowing and only the refused parts are
//! reported as degraded. The split is remembered, so every later subscription of the
//! combined topic (resubscription, reshard, new channel) sends the permitted parts only.
//! The subscribing itself is in `subscribe.rs`; this module only keeps the record.

use crate::topics::expand_topic;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// Combined topics the server refused → their parts it permitted.
#[derive(Debug, Default)]
pub struct CombinedSplits {
    permitted: Mutex<BTreeMap<String, Vec<String>>>,
}

impl CombinedSplits {
    /// The topic names to send for `topics`: a refused combined topic is replaced by its
    /// permitted parts (none if every part was refused). Sorted, deduplicated.
    pub(crate) fn wire(&self, topics: &BTreeSet<String>) -> Vec<String> {
        let map = self.permitted.lock().expect("splits lock");
        let mut out: BTreeSet<String> = BTreeSet::new();
        for t in topics {
            match map.get(t) {
                Some(parts) => out.extend(parts.iter().cloned()),
                None => {
                    out.insert(t.clone());
                }
            }
        }
        out.into_iter().collect()
    }

    /// Remembers that `combined` was refused and which of its parts were permitted.
    pub(crate) fn record(&self, combined: &str, permitted: Vec<String>) {
        self.permitted
            .lock()
            .expect("splits lock")
            .insert(combined.to_string(), permitted);
    }

    /// Whether `combined` has been split.
    #[cfg(test)]
    pub(crate) fn is_split(&self, combined: &str) -> bool {
        self.permitted.lock().expect("splits lock").contains_key(combined)
    }

    /// The parts of a split `combined` topic that are still refused (empty if not split).
    pub(crate) fn refused_parts(&self, combined: &str) -> Vec<String> {
        let map = self.permitted.lock().expect("splits lock");
        match map.get(combined) {
            Some(permitted) => expand_topic(combined)
                .into_iter()
                .filter(|p| !permitted.contains(p))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Records that `parts` of a split `combined` topic are now permitted; once every part
    /// is, the split is forgotten and the combined topic is sent whole again.
    pub(crate) fn permit(&self, combined: &str, parts: &[String]) {
        let mut map = self.permitted.lock().expect("splits lock");
        let Some(permitted) = map.get_mut(combined) else {
            return;
        };
        for p in parts {
            if !permitted.contains(p) {
                permitted.push(p.clone());
            }
        }
        if expand_topic(combined).iter().all(|p| permitted.contains(p)) {
            map.remove(combined);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_combined_topics_go_out_as_their_permitted_parts() {
        let s = CombinedSplits::default();
        let topics: BTreeSet<String> = [
            "v2.users.a?presence&routingStatus",
            "v2.users.b?presence&routingStatus",
            "v2.users.a.presence",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        s.record(
            "v2.users.a?presence&routingStatus",
            vec!["v2.users.a.presence".into()],
        );
        s.record("v2.users.b?presence&routingStatus", vec![]);
        assert!(s.is_split("v2.users.b?presence&routingStatus"));
        assert!(!s.is_split("v2.users.c?presence&routingStatus"));
        assert_eq!(s.wire(&topics), vec!["v2.users.a.presence".to_string()]);
        let untouched: BTreeSet<String> = ["v2.users.c?presence&routingStatus".to_string()].into();
        assert_eq!(
            s.wire(&untouched),
            vec!["v2.users.c?presence&routingStatus".to_string()]
        );
    }

    #[test]
    fn permitting_every_refused_part_forgets_the_split() {
        let s = CombinedSplits::default();
        let combined = "v2.users.a?presence&routingStatus";
        s.record(combined, vec!["v2.users.a.presence".into()]);
        assert_eq!(s.refused_parts(combined), vec!["v2.users.a.routingStatus"]);
        assert!(s.refused_parts("v2.users.z?presence&routingStatus").is_empty());
        s.permit(combined, &["v2.users.a.routingStatus".into()]);
        assert!(!s.is_split(combined));
        let topics: BTreeSet<String> = [combined.to_string()].into();
        assert_eq!(s.wire(&topics), vec![combined.to_string()]);
    }
}
