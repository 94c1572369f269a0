//! Client-side models of presence and routing status, from REST and from notifications.

use serde::{Deserialize, Serialize};

/// `PresenceDefinition` / `PresenceEventOrganizationPresence`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PresenceDefinition {
    /// Presence definition id (system or org-defined secondary presence).
    pub id: Option<String>,
    /// One of the ten system presences, spelled in one of several ways (see `presence`).
    pub system_presence: Option<String>,
}

/// `UserPresence` (REST) and `PresenceEventUserPresence` (notification): same shape for
/// what the daemon reads. `UcUserPresence` (bulk REST) adds `userId`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UserPresence {
    /// User id (bulk answers only).
    pub user_id: Option<String>,
    /// e.g. `PURECLOUD`.
    pub source: Option<String>,
    pub presence_definition: Option<PresenceDefinition>,
    /// Primary presence source.
    pub primary: Option<bool>,
    /// Status message.
    pub message: Option<String>,
    /// When it changed (orders updates: stale ones are dropped).
    pub modified_date: Option<String>,
}

/// `UserRoutingStatusRoutingStatus` (also the REST `RoutingStatus`, which adds `userId`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RoutingStatus {
    /// User id (REST answers only).
    pub user_id: Option<String>,
    /// `OFF_QUEUE|IDLE|INTERACTING|NOT_RESPONDING|COMMUNICATING`.
    pub status: Option<String>,
    /// When this status began.
    pub start_time: Option<String>,
}

/// `UserRoutingStatusUserRoutingStatus`: the routing status notification body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UserRoutingStatusEvent {
    /// User id.
    pub id: Option<String>,
    pub routing_status: Option<RoutingStatus>,
}
