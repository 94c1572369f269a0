//! Notification service models: channels, subscriptions, the websocket envelope and the
//! event bodies the daemon reads (presence, routing status, BU schedules, query results,
//! system messages). Every field is optional or defaulted; unknown fields are ignored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `POST /api/v2/notifications/channels` answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Channel {
    /// Websocket URL to connect to.
    pub connect_uri: String,
    /// Channel id.
    pub id: String,
    /// When the channel dies unless resubscribed.
    pub expires: Option<DateTime<Utc>>,
}

/// `GET /api/v2/notifications/channels` answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelEntityListing {
    /// The channels.
    pub entities: Vec<Channel>,
}

/// One subscription: request element (only `id`) and response element.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ChannelTopic {
    /// Topic name.
    pub id: String,
    /// `Permitted` or `Rejected`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    /// Permissions the client lacks for this topic.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_permissions: Vec<String>,
    /// Self link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub self_uri: Option<String>,
}

impl ChannelTopic {
    /// A request element for `topic`.
    pub fn request(topic: &str) -> Self {
        Self {
            id: topic.to_string(),
            ..Self::default()
        }
    }

    /// True when the server said `Rejected` (any casing).
    pub(crate) fn is_rejected(&self) -> bool {
        self.state
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("rejected"))
    }
}

/// Subscriptions listing (GET/PUT/POST `.../subscriptions` answer).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelTopicEntityListing {
    /// The subscriptions.
    pub entities: Vec<ChannelTopic>,
}

/// Every server frame: notification envelope, heartbeat/pong, or a `result` message.
/// `eventBody` is kept raw so the topic decides its type.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Envelope {
    /// Concrete topic name (`channel.metadata` for heartbeats and pongs).
    pub topic_name: Option<String>,
    /// Envelope version (a string, usually "2").
    pub version: Option<serde_json::Value>,
    /// Topic-specific body.
    pub event_body: Option<serde_json::Value>,
    /// `{"CorrelationId": ...}`.
    pub metadata: Option<BTreeMap<String, serde_json::Value>>,
    /// Result messages only: status code as a string (`"404"`); numbers accepted too.
    pub result: Option<serde_json::Value>,
    /// Result messages: `subscribed`, `failure`, ...
    pub status: Option<String>,
    /// Result messages: explanation.
    pub message: Option<String>,
    /// Result messages: correlation id.
    pub correlation_id: Option<String>,
}

/// `channel.metadata` body: `{"message":"WebSocket Heartbeat"}` or `{"message":"pong"}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ChannelMetadata {
    /// Heartbeat or pong text.
    pub message: Option<String>,
}

/// Client ping text frame: `{"message":"ping"}`.
pub const PING_FRAME: &str = r#"{"message":"ping"}"#;

/// `SystemMessageSystemMessage` (socket_closing, no_longer_subscribed, token_revoked...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SystemMessage {
    /// Channel concerned.
    pub channel_id: Option<String>,
    /// `no_longer_subscribed`, `subscription_changed`, `token_revoked`.
    pub system_topic_type: Option<String>,
    pub correlation_id: Option<String>,
    /// Org id.
    pub organization_id: Option<String>,
    pub user_id: Option<String>,
    /// OAuth client id.
    pub oauth_client_id: Option<String>,
    /// OAuth client org id.
    pub oauth_client_org_id: Option<String>,
    /// `another_channel_subscribed`, `user_tokens_revoked`.
    pub reason: Option<String>,
    /// Free text.
    pub message: Option<String>,
    /// Extra data.
    pub data: Option<BTreeMap<String, serde_json::Value>>,
}

/// `PresenceEventOrganizationPresence`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PresenceDefinitionRef {
    /// Presence definition id.
    pub id: Option<String>,
    /// System presence (display form, unverified spelling).
    pub system_presence: Option<String>,
}

/// `PresenceEventUserPresence` (`v2.users.{id}.presence`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PresenceEventUserPresence {
    /// `PURECLOUD` for native presence.
    pub source: Option<String>,
    /// The presence now.
    pub presence_definition: Option<PresenceDefinitionRef>,
    /// Primary presence source.
    pub primary: Option<bool>,
    /// Status message.
    pub message: Option<String>,
    /// When it changed.
    pub modified_date: Option<DateTime<Utc>>,
    /// Scheduled future presence.
    pub future_presence_definition: Option<PresenceDefinitionRef>,
}

/// `UserRoutingStatusRoutingStatus`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UserRoutingStatusRoutingStatus {
    /// `OFF_QUEUE`, `IDLE`, `INTERACTING`, `NOT_RESPONDING`, `COMMUNICATING`.
    pub status: Option<String>,
    /// When the status started.
    pub start_time: Option<DateTime<Utc>>,
}

/// `UserRoutingStatusUserParam`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserRoutingStatusUserParam {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// `UserRoutingStatusErrorInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UserRoutingStatusErrorInfo {
    pub error_code: Option<String>,
    /// HTTP-like status.
    pub status: Option<i64>,
    pub correlation_id: Option<String>,
    pub user_message: Option<String>,
    /// Message template.
    pub user_params_message: Option<String>,
    /// Template parameters.
    pub user_params: Vec<UserRoutingStatusUserParam>,
}

/// `UserRoutingStatusUserRoutingStatus` (`v2.users.{id}.routingStatus`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UserRoutingStatusUserRoutingStatus {
    /// User id.
    pub id: Option<String>,
    pub routing_status: Option<UserRoutingStatusRoutingStatus>,
    /// Error, if any.
    pub error_info: Option<UserRoutingStatusErrorInfo>,
}

/// `WfmBuScheduleQueryResultTopicBuScheduleSearchResultNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WfmBuScheduleQueryResultNotification {
    /// Operation id of the async query.
    pub operation_id: Option<String>,
    pub business_unit_id: Option<String>,
    /// Where the result can be downloaded.
    pub download_url: Option<String>,
}

pub use super::notifications_wfm::*;
