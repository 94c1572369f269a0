//! What the rest of the daemon holds of the reactor: senders of messages and receivers of
//! watches, never its state.
//!
//! The reactor alone owns membership and the presence cache. Whoever else needs to change
//! or read them sends it a message (a refreshed membership; a question for `GET
//! /v1/state`), which the reactor handles between two decisions, so no lock is shared and
//! no reader sees a half-applied change.

use super::membership::Membership;
use crate::presence::{PresenceState, RoutingState};
use std::collections::BTreeMap;
use tokio::sync::{mpsc, oneshot, watch};

/// Handles the app keeps: trigger a resync, watch readiness of the first reconcile, send
/// membership, read presence.
#[derive(Clone)]
pub struct ReactorHandle {
    /// `POST /v1/resync` sends here.
    pub resync: mpsc::Sender<()>,
    /// Becomes true once the first reconcile (and every fetch it caused) finished.
    pub first_reconcile_done: watch::Receiver<bool>,
    /// Schedule keys waiting in the debounce window or being fetched.
    pub pending: watch::Receiver<usize>,
    pub(super) messages: mpsc::Sender<Message>,
}

/// The watched users' last-known state, as the reactor decides against it.
#[derive(Debug, Default)]
pub struct UsersView {
    /// Up to the asked limit of watched users, by id.
    pub users: BTreeMap<String, UserState>,
    /// Watched users left out by the limit.
    pub truncated: usize,
}

/// One user's last-known presence and routing status (for `GET /v1/state`).
#[derive(Debug, Clone, Default)]
pub struct UserState {
    /// Presence, when known.
    pub presence: Option<PresenceState>,
    /// Routing status, when known.
    pub routing: Option<RoutingState>,
}
/// A request to the reactor.
pub(super) enum Message {
    /// Membership was re-read: use it from now on.
    Membership(Membership),
    /// Answer with every tracked agent's adherence (of one management unit when given).
    Adherence {
        management_unit: Option<String>,
        reply: oneshot::Sender<Vec<super::AgentAdherence>>,
    },
    /// Answer with the first `limit` watched users' state.
    Users {
        limit: usize,
        reply: oneshot::Sender<UsersView>,
    },
}

impl ReactorHandle {
    /// Hands a re-read membership to the reactor; false when the reactor has stopped.
    pub async fn set_membership(&self, membership: Membership) -> bool {
        self.messages.send(Message::Membership(membership)).await.is_ok()
    }

    /// Every tracked agent's adherence, optionally of one management unit; `None` when the
    /// reactor has stopped.
    pub async fn adherence(&self, management_unit: Option<String>) -> Option<Vec<super::AgentAdherence>> {
        let (reply, answer) = oneshot::channel();
        let msg = Message::Adherence {
            management_unit,
            reply,
        };
        self.messages.send(msg).await.ok()?;
        answer.await.ok()
    }

    /// The first `limit` watched users' last-known presence and routing status; `None`
    /// when the reactor has stopped.
    pub async fn users(&self, limit: usize) -> Option<UsersView> {
        let (reply, answer) = oneshot::channel();
        self.messages.send(Message::Users { limit, reply }).await.ok()?;
        answer.await.ok()
    }
}
