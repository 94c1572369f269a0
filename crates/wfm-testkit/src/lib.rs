//! The test kit: fixtures shared by the daemon's integration tests and its benches, so
//! each exists once. A simulator builder ([`SimBuilder`]), a daemon harness
//! ([`DaemonBuilder`], [`Daemon`]), one polling helper with environment-tuned patience
//! ([`eventually`], [`eventually!`], `WFM_TEST_PATIENCE`), one log setup ([`init_logs`]),
//! and named views of the simulated org ([`FirstSchedule`]).
#![forbid(unsafe_code)]

pub mod api;
pub mod browser;
pub mod config;
pub mod daemon;
pub mod delivery;
pub mod eventually;
pub mod fake_http;
pub mod logs;
pub mod manager;
pub mod org;
pub mod outbox;
pub mod patience;
pub mod process;
pub mod prometheus;
pub mod requests;
pub mod services;
pub mod sim;
pub mod soak;
pub mod webhook;
pub mod ws;

pub use config::{Upstream, events_path, file_events};
pub use daemon::{Daemon, DaemonBuilder, start_app};
pub use eventually::{eventually, eventually_value, eventually_within};
pub use logs::init_logs;
pub use org::FirstSchedule;
pub use patience::patience;
pub use sim::SimBuilder;
