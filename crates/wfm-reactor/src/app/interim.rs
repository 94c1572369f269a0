//! The admin server while the daemon owns nothing yet: a standby waiting for the lease, or a
//! daemon still resolving its watched org (a Genesys outage at start can last minutes, and
//! probes and scrapers must get an answer meanwhile: `/livez` 200, `/readyz` 503 saying why,
//! `/metrics` with every contract metric).

use crate::admin::{self, AdminState, ReadinessReport};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long a stopping interim server may take to finish its open requests.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Another handle on the same bound socket (the interim and the full server serve on it in turn).
pub(super) fn clone_listener(l: Option<&std::net::TcpListener>) -> std::io::Result<Option<TcpListener>> {
    l.map(|l| l.try_clone().and_then(TcpListener::from_std))
        .transpose()
}

/// An interim admin server; [`Interim::stop`] hands the socket back.
pub(super) struct Interim {
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Interim {
    /// Serves `report` on a second handle of `listener` (left in place for the full server).
    pub(super) fn serve(
        listener: &mut Option<TcpListener>,
        access: admin::AccessConfig,
        report: ReadinessReport,
    ) -> std::io::Result<Self> {
        let cancel = CancellationToken::new();
        let Some(tokio_listener) = listener.take() else {
            return Ok(Self { cancel, task: None });
        };
        let std_listener = tokio_listener.into_std()?;
        let second = clone_listener(Some(&std_listener))?;
        *listener = Some(TcpListener::from_std(std_listener)?);
        let task = second.map(|l| tokio::spawn(serve(l, access, report, cancel.clone())));
        Ok(Self { cancel, task })
    }

    /// Stops accepting and waits (briefly) for the open requests.
    pub(super) async fn stop(self) {
        self.cancel.cancel();
        if let Some(mut task) = self.task
            && tokio::time::timeout(STOP_GRACE, &mut task).await.is_err()
        {
            task.abort();
        }
    }
}

/// Why a daemon still resolving its org is not ready.
pub(super) fn resolving() -> ReadinessReport {
    ReadinessReport {
        reasons: vec!["starting: resolving the watched business units".into()],
        ..ReadinessReport::default()
    }
}

/// A standby: alive, ready to take over, owning nothing.
pub(super) fn standby() -> ReadinessReport {
    ReadinessReport {
        role: Some("standby"),
        ..ReadinessReport::default()
    }
}

/// Serves `report` until `cancel`, under the same access policy as the full server; owns no
/// state (live feed only, no adherence: 503).
pub(super) async fn serve(
    listener: TcpListener,
    access: admin::AccessConfig,
    report: ReadinessReport,
    cancel: CancellationToken,
) {
    let role = report.role.unwrap_or("starting");
    let state = AdminState {
        liveness: Arc::new(|| None),
        readiness: Arc::new(move || report.clone()),
        metrics: crate::telemetry::prometheus::handle(),
        live: tokio::sync::broadcast::channel(1).0,
        state: Arc::new(move || Box::pin(async move { Ok(serde_json::json!({ "role": role })) })),
        resync: tokio::sync::mpsc::channel(1).0,
        store: None,
        adherence: Arc::new(|_| Box::pin(async { None })),
        access,
    };
    if let Err(err) = admin::serve(listener, state, cancel).await {
        tracing::error!(error = %err, role, "interim admin server failed");
    }
}
