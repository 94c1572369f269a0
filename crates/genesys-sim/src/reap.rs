//! Removing dead channels and telling their sockets, apart from the liveness rules in
//! `liveness.rs` so that delivery (`notify.rs`) can ask whether a channel lives without
//! depending on the reaper that delivers the death.

use super::liveness::{Death, death};
use super::notify::{envelope, send_gone};
use super::state::{Inner, Shared};
use chrono::Utc;
use serde_json::json;
use tokio::time::Instant;

/// The system message a socket gets when the token behind its channel is revoked.
fn token_revoked_frame(shared: &Shared, channel_id: &str) -> String {
    let body = json!({
        "channelId": channel_id,
        "systemTopicType": "token_revoked",
        "reason": "user_tokens_revoked",
        "message": "The token used to create this channel was revoked.",
        "correlationId": uuid::Uuid::new_v4().to_string(),
        "oauthClientId": shared.config.client_id,
    });
    envelope(&format!("v2.system.token_revoked.{channel_id}"), &body)
}

/// Removes every dead channel and tells its socket (`token_revoked` if revoked, then
/// `{"result":"404"}` and a close). Returns how many died.
pub(crate) fn reap(shared: &Shared, inner: &mut Inner) -> usize {
    let now = Instant::now();
    let wall = Utc::now();
    let deaths: Vec<(usize, Death)> = inner
        .channels
        .iter()
        .enumerate()
        .filter_map(|(i, ch)| death(inner, ch, now, wall).map(|d| (i, d)))
        .collect();
    for &(i, why) in deaths.iter().rev() {
        let ch = inner.channels.remove(i);
        tracing::info!(channel = %ch.id, reason = why.label(), "sim: channel died");
        metrics::counter!("wfm_reactor_sim_channels_died_total", "reason" => why.label()).increment(1);
        if let Some(sock) = &ch.socket {
            if why == Death::TokenRevoked {
                sock.send_text(token_revoked_frame(shared, &ch.id));
            }
            send_gone(sock);
        }
    }
    deaths.len()
}
