//! The seeded fault schedule of a soak run: which fault fires in each simulated hour, and
//! how each one is applied to the simulator or the webhook receiver.

use genesys_sim::{DownloadFault, SimHandle};
use rand::Rng;
use rand::rngs::StdRng;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// One kind of fault; the hour's draw picks at most one (the daily kill is separate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Every socket closed abruptly (channels survive).
    SocketDrop,
    /// `v2.system.socket_closing`, then a forced close after the grace.
    SocketClosing,
    /// `v2.system.socket_closing` and no close ever follows.
    SocketClosingUnfollowed,
    /// Another process of the same OAuth client creates 20 channels: the limit pushes
    /// the daemon's out (their sockets get `{"result":"404"}`).
    ChannelCrowding,
    /// Every channel expired: sockets get `{"result":"404"}`, HEAD answers 404.
    ChannelExpiry,
    /// Every token expired (API answers 401; bound channels die).
    TokenExpiry,
    /// Every token revoked (`token_revoked`, then 404 on the sockets).
    TokenRevoked,
    /// A storm of 429 with `Retry-After: 1` on every REST route.
    RateLimitStorm,
    /// A burst of 503 on every REST route.
    ServerErrors,
    /// The next schedule result downloads are cut off half-way.
    DownloadTruncated,
    /// The next schedule result downloads start late (1–7 s; the timeout is 5 s).
    DownloadSlow,
    /// The webhook receiver answers 503 for a few simulated hours.
    WebhookOutage,
    /// SIGKILL and restart on the same store (once per simulated day).
    Kill,
}

impl Fault {
    /// The hourly draw (the kill is not drawn: it ends every day).
    const DRAWN: [Fault; 12] = [
        Fault::SocketDrop,
        Fault::SocketClosing,
        Fault::SocketClosingUnfollowed,
        Fault::ChannelCrowding,
        Fault::ChannelExpiry,
        Fault::TokenExpiry,
        Fault::TokenRevoked,
        Fault::RateLimitStorm,
        Fault::ServerErrors,
        Fault::DownloadTruncated,
        Fault::DownloadSlow,
        Fault::WebhookOutage,
    ];

    /// The fault of one simulated hour: about two hours in three have one.
    pub fn draw(rng: &mut StdRng) -> Option<Fault> {
        if rng.random_bool(1.0 / 3.0) {
            return None;
        }
        Some(Self::DRAWN[rng.random_range(0..Self::DRAWN.len())])
    }
}

/// The webhook receiver's availability, shared with its responder.
#[derive(Debug, Clone, Default)]
pub struct Outage {
    down: Arc<AtomicBool>,
    hours_left: u32,
}

impl Outage {
    /// True while the receiver refuses (the responder answers 503).
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    /// Starts an outage of `hours` simulated hours.
    pub fn begin(&mut self, hours: u32) {
        self.hours_left = hours;
        self.down.store(true, Ordering::SeqCst);
    }

    /// One simulated hour passed; the receiver comes back when the outage is over.
    pub fn tick(&mut self) {
        self.hours_left = self.hours_left.saturating_sub(1);
        if self.hours_left == 0 {
            self.down.store(false, Ordering::SeqCst);
        }
    }

    /// The flag the responder reads.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.down.clone()
    }
}

/// Applies `fault` (all but the kill, which the run loop owns).
pub fn fire(fault: Fault, sim: &SimHandle, outage: &mut Outage, rng: &mut StdRng) {
    match fault {
        Fault::SocketDrop => sim.drop_sockets(),
        Fault::SocketClosing => sim.send_socket_closing(),
        Fault::SocketClosingUnfollowed => {
            sim.announce_socket_closing();
        }
        Fault::ChannelCrowding => sim.crowd_channels(20),
        Fault::ChannelExpiry => sim.expire_channels(),
        Fault::TokenExpiry => sim.expire_tokens(),
        Fault::TokenRevoked => sim.revoke_tokens(),
        Fault::RateLimitStorm => sim.fail_next("/api/v2/", rng.random_range(3..20), 429, Some(1)),
        Fault::ServerErrors => sim.fail_next("/api/v2/", rng.random_range(2..10), 503, None),
        Fault::DownloadTruncated => sim.mangle_downloads(DownloadFault::Truncated, rng.random_range(1..4)),
        Fault::DownloadSlow => {
            let wait = std::time::Duration::from_millis(rng.random_range(1000..7000));
            sim.mangle_downloads(DownloadFault::Slow(wait), rng.random_range(1..4));
        }
        Fault::WebhookOutage => outage.begin(rng.random_range(1..=4)),
        Fault::Kill => {}
    }
}
