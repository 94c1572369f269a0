//! One websocket text frame → [`Frame`], leniently.

use super::names::TopicKind;
use super::{
    BuScheduleUpdate, MuAdherenceUpdate, MuAgentSchedulesUpdate, Notification, PresenceUpdate,
    RoutingStatusUpdate, SystemEvent, SystemKind,
};
use crate::genesys::notifications::{
    ChannelMetadata, PresenceEventUserPresence, SystemMessage, UserRoutingStatusUserRoutingStatus,
    WfmBuScheduleQueryResultNotification, WfmBuScheduleTopicBuScheduleNotification,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// What a server frame was.
// Short-lived (parsed, matched, moved on): boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `channel.metadata` heartbeat.
    Heartbeat,
    /// `channel.metadata` answer to our ping.
    Pong,
    /// A `{"result": "..."}` message (`"404"`: the channel is gone).
    Result {
        /// Code as text.
        code: String,
        /// Explanation, if any.
        message: Option<String>,
    },
    /// A typed notification on a concrete topic.
    Notification {
        /// Concrete topic name.
        topic: String,
        /// The event.
        notification: Notification,
    },
}

/// Why a frame was refused (each maps to a `reason` label).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FrameError {
    /// Not JSON, or not a JSON object.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// Neither a topic nor a result.
    #[error("frame has no topicName")]
    NoTopic,
    /// A topic this daemon does not handle.
    #[error("unknown topic {0}")]
    UnknownTopic(String),
    /// The body does not fit the topic's model.
    #[error("topic {topic}: {error}")]
    WrongType {
        /// The topic.
        topic: String,
        /// The serde error.
        error: String,
    },
}

impl FrameError {
    /// The `reason` label of `wfm_reactor_frames_rejected_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            FrameError::InvalidJson(_) => "invalid_json",
            FrameError::NoTopic => "no_topic",
            FrameError::UnknownTopic(_) => "unknown_topic",
            FrameError::WrongType { .. } => "wrong_type",
        }
    }
}

/// The envelope fields the parser needs, borrowed from the frame text.
///
/// Why not [`crate::genesys::notifications::Envelope`]: it builds a `serde_json::Value`
/// tree for `eventBody` (and a map for `metadata`) that is then converted again into the
/// topic's type. Keeping the body as raw text and parsing it once into its type halves
/// the parse cost of a presence frame, the daemon's hottest path (docs/performance.md).
/// Unknown members (`version`, `metadata`...) are skipped without being built.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEnvelope<'a> {
    #[serde(default, borrow)]
    topic_name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    event_body: Option<&'a RawValue>,
    /// Result messages only: status code as a string (`"404"`); numbers accepted too.
    #[serde(default)]
    result: Option<serde_json::Value>,
    /// Result messages: explanation.
    #[serde(default)]
    message: Option<String>,
}

impl RawEnvelope<'_> {
    /// The `result` code as text (`"404"`), whatever JSON type it was sent as.
    fn result_code(&self) -> Option<String> {
        match self.result.as_ref()? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

fn body<T: DeserializeOwned + Default>(topic: &str, v: Option<&RawValue>) -> Result<T, FrameError> {
    match v.map(RawValue::get) {
        None | Some("null") => Ok(T::default()),
        Some(text) => serde_json::from_str(text).map_err(|e| FrameError::WrongType {
            topic: topic.to_string(),
            error: e.to_string(),
        }),
    }
}

/// Parses one text frame.
pub fn parse_frame(text: &str) -> Result<Frame, FrameError> {
    let env: RawEnvelope<'_> =
        serde_json::from_str(text).map_err(|e| FrameError::InvalidJson(e.to_string()))?;
    if let Some(code) = env.result_code() {
        return Ok(Frame::Result {
            code,
            message: env.message,
        });
    }
    let topic: String = env
        .topic_name
        .filter(|t| !t.is_empty())
        .ok_or(FrameError::NoTopic)?
        .into_owned();
    let notification = match TopicKind::of(&topic) {
        TopicKind::ChannelMetadata => {
            let m: ChannelMetadata = body(&topic, env.event_body)?;
            let is_pong = m
                .message
                .as_deref()
                .is_some_and(|s| s.trim().eq_ignore_ascii_case("pong"));
            return Ok(if is_pong { Frame::Pong } else { Frame::Heartbeat });
        }
        TopicKind::Presence(user_id) => {
            let p: PresenceEventUserPresence = body(&topic, env.event_body)?;
            let def = p.presence_definition.unwrap_or_default();
            Notification::Presence(PresenceUpdate {
                user_id,
                system_presence: def.system_presence,
                presence_definition_id: def.id,
                modified_date: p.modified_date,
                source: p.source,
            })
        }
        TopicKind::RoutingStatus(user_id) => {
            let r: UserRoutingStatusUserRoutingStatus = body(&topic, env.event_body)?;
            let rs = r.routing_status.unwrap_or_default();
            Notification::RoutingStatus(RoutingStatusUpdate {
                user_id,
                status: rs.status,
                start_time: rs.start_time,
            })
        }
        TopicKind::BuSchedule(business_unit_id) => {
            let n: WfmBuScheduleTopicBuScheduleNotification = body(&topic, env.event_body)?;
            Notification::BuSchedule(BuScheduleUpdate {
                business_unit_id,
                notification: n,
            })
        }
        TopicKind::ScheduleQuery(_) => {
            let q: WfmBuScheduleQueryResultNotification = body(&topic, env.event_body)?;
            Notification::ScheduleQueryResult {
                operation_id: q.operation_id,
                business_unit_id: q.business_unit_id,
                download_url: q.download_url,
            }
        }
        TopicKind::MuAdherence(management_unit_id) => {
            let adherence = body(&topic, env.event_body)?;
            Notification::MuAdherence(MuAdherenceUpdate {
                management_unit_id,
                adherence,
            })
        }
        TopicKind::MuAgentSchedules(management_unit_id) => {
            let changed = body(&topic, env.event_body)?;
            Notification::MuAgentSchedules(MuAgentSchedulesUpdate {
                management_unit_id,
                changed,
            })
        }
        TopicKind::System => {
            let message: SystemMessage = body(&topic, env.event_body)?;
            let kind = if topic == "v2.system.socket_closing" {
                SystemKind::SocketClosing
            } else if topic.starts_with("v2.system.no_longer_subscribed") {
                SystemKind::NoLongerSubscribed
            } else if topic.starts_with("v2.system.token_revoked") {
                SystemKind::TokenRevoked
            } else {
                SystemKind::Other
            };
            Notification::System(SystemEvent { kind, message })
        }
        TopicKind::Unknown => return Err(FrameError::UnknownTopic(topic)),
    };
    Ok(Frame::Notification { topic, notification })
}
