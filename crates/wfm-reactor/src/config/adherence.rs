//! `[adherence]`: who computes real-time adherence, and the local engine's presence →
//! category mapping.

use super::problem::Problem;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Who computes adherence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdherenceMode {
    /// Genesys's own where the unit's adherence topic is permitted, the local engine elsewhere.
    #[default]
    Auto,
    /// Genesys's own only.
    Genesys,
    /// The local engine only (no adherence topics).
    Local,
}

/// `[adherence]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdherenceConfig {
    /// `"auto"` (default), `"genesys"` or `"local"`.
    #[serde(default)]
    pub mode: AdherenceMode,
    /// `[adherence.mapping]`: presence (display form, e.g. `"Busy"`) → activity category
    /// (`OnQueueWork`/`OnQueue`, `OffQueueWork`/`OffQueue`, `Break`, `Meal`, `Meeting`,
    /// `Training`, `TimeOff`, `Unavailable`), on top of Genesys's default mapping.
    #[serde(default)]
    pub mapping: BTreeMap<String, String>,
}

impl AdherenceConfig {
    /// The local engine's mapping (valid once `validate` found no problem).
    pub fn mapping(&self) -> crate::adherence::Mapping {
        crate::adherence::Mapping::with_overrides(&self.mapping).unwrap_or_default()
    }
}

/// The problems of `[adherence]`, each with its key.
pub(super) fn problems(c: &AdherenceConfig) -> Vec<Problem> {
    c.mapping
        .iter()
        .filter(|(_, category)| crate::adherence::Category::parse(category).is_none())
        .map(|(presence, category)| Problem {
            key: format!("adherence.mapping.{presence:?}"),
            message: format!(
                "{category:?} is not an activity category (OnQueue, OffQueue, Break, Meal, \
                 Meeting, Training, TimeOff, Unavailable)"
            ),
        })
        .collect()
}
