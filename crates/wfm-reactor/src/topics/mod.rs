//! Topic names ↔ typed events: what the upstream hands to the reactor.
//!
//! [`names`] builds and classifies topic names; [`parse`] turns one websocket text
//! frame into a [`parse::Frame`] leniently (unknown fields ignored, absent fields
//! `None`), refusing only what cannot be understood, with a reason for the metric.

#[doc(hidden)]
pub mod fuzzing;
pub mod names;
pub mod parse;

pub use names::{
    TopicKind, bu_schedule_topic, expand_topic, mu_adherence_topic, mu_agent_schedules_topic, presence_topics,
};
pub use parse::{Frame, FrameError, parse_frame};

use crate::genesys::notifications::{SystemMessage, WfmBuScheduleTopicBuScheduleNotification};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A typed notification.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notification {
    /// `v2.users.{id}.presence`.
    Presence(PresenceUpdate),
    /// `v2.users.{id}.routingStatus`.
    RoutingStatus(RoutingStatusUpdate),
    /// `v2.workforcemanagement.businessunits.{id}.schedules`.
    BuSchedule(BuScheduleUpdate),
    /// `v2.workforcemanagement.users.{id}.schedules.query`: an async query finished.
    ScheduleQueryResult {
        /// The query's operation id.
        operation_id: Option<String>,
        /// Business unit queried.
        business_unit_id: Option<String>,
        /// Where to download the result.
        download_url: Option<String>,
    },
    /// `v2.workforcemanagement.managementunits.{id}.adherence`.
    MuAdherence(MuAdherenceUpdate),
    /// `v2.workforcemanagement.managementunits.{id}.agentschedules.changed`.
    MuAgentSchedules(MuAgentSchedulesUpdate),
    /// `v2.system.*`.
    System(SystemEvent),
}

impl Notification {
    /// Short label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Notification::Presence(_) => "presence",
            Notification::RoutingStatus(_) => "routing_status",
            Notification::BuSchedule(_) => "bu_schedule",
            Notification::ScheduleQueryResult { .. } => "schedule_query_result",
            Notification::MuAdherence(_) => "mu_adherence",
            Notification::MuAgentSchedules(_) => "mu_agent_schedules",
            Notification::System(_) => "system",
        }
    }
}

/// A user's presence changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PresenceUpdate {
    /// The user (from the topic name).
    pub user_id: String,
    /// `systemPresence` exactly as sent (spelling unverified; normalise downstream).
    pub system_presence: Option<String>,
    /// `presenceDefinition.id`.
    pub presence_definition_id: Option<String>,
    /// When it changed upstream.
    pub modified_date: Option<DateTime<Utc>>,
    /// `PURECLOUD`, ...
    pub source: Option<String>,
}

/// A user's routing status changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoutingStatusUpdate {
    /// The user (from the topic name).
    pub user_id: String,
    /// `OFF_QUEUE`, `IDLE`, ... as sent.
    pub status: Option<String>,
    /// When the status started.
    pub start_time: Option<DateTime<Utc>>,
}

/// A business unit schedule operation progressed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuScheduleUpdate {
    /// The business unit (from the topic name).
    pub business_unit_id: String,
    /// The parsed event body.
    pub notification: WfmBuScheduleTopicBuScheduleNotification,
}

/// Genesys's adherence of one agent of a unit changed (the full state, not a delta).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MuAdherenceUpdate {
    /// The management unit (from the topic name).
    pub management_unit_id: String,
    /// The agent's state.
    pub adherence: crate::genesys::adherence::UserScheduleAdherence,
}

/// Some agents' schedules of a unit changed (no schedule named).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MuAgentSchedulesUpdate {
    /// The management unit (from the topic name).
    pub management_unit_id: String,
    /// The parsed event body.
    pub changed: crate::genesys::notifications_wfm::AgentMuScheduleChanged,
}

/// Which system message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemKind {
    /// `v2.system.socket_closing`: reconnect within a minute.
    SocketClosing,
    /// `v2.system.no_longer_subscribed.*`.
    NoLongerSubscribed,
    /// `v2.system.token_revoked.*`: the channel is dead.
    TokenRevoked,
    /// Any other `v2.system.*` / `v2.subscription.updated`.
    Other,
}

/// A `v2.system.*` message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemEvent {
    /// Which one.
    pub kind: SystemKind,
    /// Its body (every field optional).
    pub message: SystemMessage,
}

/// Why events may have been missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GapCause {
    /// First subscription since start.
    Start,
    /// The socket dropped and was reconnected to the same channel.
    SocketDropped,
    /// The channel was gone (404 result, failed HEAD, failed upgrade, revoked) and was replaced.
    ChannelLost,
    /// No frame and no pong: the socket was presumed dead and replaced.
    HeartbeatTimeout,
    /// Topics were newly subscribed (their history before now is unknown).
    TopicsAdded,
    /// A make-before-break rollover could not overlap.
    Rollover,
}

impl GapCause {
    /// Label for logs and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            GapCause::Start => "start",
            GapCause::SocketDropped => "socket_dropped",
            GapCause::ChannelLost => "channel_lost",
            GapCause::HeartbeatTimeout => "heartbeat_timeout",
            GapCause::TopicsAdded => "topics_added",
            GapCause::Rollover => "rollover",
        }
    }
}

/// Events on `topics` may have been missed since `since`: reconcile them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// Concrete topics affected (combined topics expanded).
    pub topics: Vec<String>,
    /// Last moment the stream was known complete.
    pub since: DateTime<Utc>,
    /// Why.
    pub cause: GapCause,
}

/// What the upstream sends to the reactor.
// Gaps are rare; notifications are the common case, so no boxing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum UpstreamEvent {
    /// A parsed notification.
    Notification {
        /// The event.
        notification: Notification,
        /// Concrete topic it came on.
        topic: String,
        /// When the frame was read.
        received_at: tokio::time::Instant,
    },
    /// Events may have been missed.
    Gap(Gap),
}
