//! Upstream notifications: channel REST client, websocket sessions, the channel manager.
//!
//! The [`manager`] owns the topic set and shards it ([`shard`]) over channels; each
//! channel has a [`worker`] that creates/subscribes/connects it through [`channel`] and
//! runs one [`session`] per websocket, and reports [`crate::topics::Gap`]s whenever
//! events may have been missed.

pub mod channel;
pub mod connect;
pub mod dedupe;
pub mod fleet;
pub mod manager;
mod rejected;
pub mod retry;
pub mod session;
pub mod shard;
pub mod shared;
pub mod split;
pub mod spread;
pub mod status;
mod subscribe;
mod supervise;
pub mod worker;
mod worker_ops;

pub use fleet::{ClientReport, Fleet, FleetMember};
pub use manager::{ChannelManager, ManagerExtras, ManagerHandle};
pub use status::UpstreamStatus;
