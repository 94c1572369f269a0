//! The integration tests, as one binary: one link and one process instead of one per file,
//! which keeps a fresh CI build small on disk and quick. Each module is one area of the
//! daemon; the shared fixtures live in the `wfm-testkit` crate (shared with the benches).

mod config_fixtures;
mod delivery_crash;
mod delivery_dlq;
mod delivery_shutdown;
mod delivery_sinks;
mod delivery_webhook;
mod delivery_webhook_concurrency;
mod ops_adherence;
mod ops_admin;
mod ops_board_browser;
mod ops_doctor;
mod ops_feed;
mod ops_shutdown;
mod reactor_fetch;
mod reactor_options;
mod reactor_ordering;
mod reactor_presence;
mod reactor_reconcile;
mod reactor_schedule;
mod reactor_version;
mod sim_adherence;
mod sim_bench;
mod sim_channels;
mod sim_control;
mod sim_platform;
mod sim_schedule_change;
mod sim_schedules;
mod sim_tokens;
mod sim_wfm;
mod sim_ws;
mod store_basic;
mod store_event_contract;
mod upstream_auth;
mod upstream_manager;
mod upstream_permissions;
mod upstream_recovery;
mod upstream_resilience;
mod upstream_session;
mod upstream_sim;
mod upstream_topics;
mod wfm_client;
mod wfm_delivery;
mod wfm_sim;
