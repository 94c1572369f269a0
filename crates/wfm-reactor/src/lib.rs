//! wfm-reactor: keeps a websocket subscription to Genesys Cloud notification topics alive
//! through every disruption, coalesces bursts of payload-less WFM schedule events into
//! the fewest REST fetches, diffs what really changed against a durable store, and
//! delivers CloudEvents at-least-once to stdout, files, webhooks, NATS JetStream and a live
//! SSE feed; with `[ha]`, replicas share a PostgreSQL store and one holds the lease.
//!
//! # Layout
//! - [`config`], [`cli`], [`commands`]: the outside: configuration file and command line.
//! - [`genesys`]: the Genesys Cloud JSON models (shared by the client and the simulator).
//! - The simulator is its own crate (`genesys-sim`), embedded behind the default `embedded-sim` feature.
//! - [`bounds`]: clamps and caps on every number and body upstream sends.
//! - [`auth`], [`notifications`], [`topics`]: upstream: tokens, channels, sessions, typed events, gaps.
//! - [`coalesce`], [`wfm`], [`diff`], `presence`, [`reactor`]: turning events into real changes.
//! - [`store`], [`events`], [`sinks`]: durable state + outbox (SQLite or PostgreSQL, and the
//!   leader lease), the CloudEvent, delivery.
//! - `admin`, [`app`], [`telemetry`], [`backoff`]: operating it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod adherence;
pub(crate) mod admin;
pub mod app;
pub mod auth;
pub mod backoff;
pub mod bounds;
pub mod cli;
pub mod coalesce;
pub mod commands;
pub mod config;
pub mod diff;
pub mod doctor;
pub mod events;
pub mod files;
// The wire models mirror the Genesys Cloud API field for field; its reference documents
// them, so a field doc that restates the name (`/// User id.`) is not required there.
#[allow(missing_docs)]
pub mod genesys;
pub mod notifications;
pub(crate) mod presence;
pub mod reactor;
pub mod redact;
pub mod sinks;
pub mod store;
pub mod telemetry;
pub mod topics;
pub mod wfm;
