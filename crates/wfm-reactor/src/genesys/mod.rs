//! Client-side models of the Genesys Cloud JSON the daemon reads (field names exactly as
//! `genesys-models.json`; every field optional or defaulted, unknown fields ignored).
//!
//! The simulator deliberately renders its responses independently (in `sim/`), so the
//! client models are checked against a second rendering, not against themselves.

pub mod adherence;
pub mod error;
pub mod notifications;
pub mod notifications_wfm;
pub mod oauth;
pub mod presence;
pub mod wfm;
