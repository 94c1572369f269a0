//! `socket_closing` floods (contract, second tranche): at most one replacement socket is
//! pending, repeated notices are ignored, a channel never has more than two sockets, and
//! events still flow on the replacement.

use std::time::Duration;
use tokio::time::{Instant, timeout};
use wfm_reactor::topics::{Notification, UpstreamEvent};
use wfm_testkit::SimBuilder;
use wfm_testkit::manager::*;

#[tokio::test]
async fn two_hundred_socket_closing_notices_open_one_replacement_socket() {
    let sim = SimBuilder::closing_grace().start().await;
    let users = agents(&sim);
    let (m, mut rx) = running(&sim, &users[..1]).await;
    let upgrades = || {
        sim.request_log()
            .iter()
            .filter(|r| r.path.starts_with("/channels/"))
            .count()
    };
    assert_eq!(upgrades(), 1);
    for _ in 0..200 {
        sim.send_socket_closing();
    }
    // the replacement is up once the channel is attached again after the grace
    let deadline = Instant::now() + Duration::from_secs(5);
    while upgrades() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(upgrades(), 2, "one replacement socket");
    // past the 200 ms grace the old socket is closed; still only the replacement
    assert!(
        sim.wait_for_channels(Duration::from_secs(3), |c| c.len() == 1 && c[0].connected)
            .await
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(upgrades(), 2, "the 199 other notices were ignored");
    let user = users[0].clone();
    sim.set_presence(&user, "Away", true).unwrap();
    loop {
        match timeout(Duration::from_secs(3), rx.recv())
            .await
            .expect("the event arrives")
            .unwrap()
        {
            UpstreamEvent::Notification {
                notification: Notification::Presence(_),
                ..
            } => break,
            UpstreamEvent::Gap(g) => panic!("no gap expected: {g:?}"),
            _ => {}
        }
    }
    m.shutdown().await;
}
