//! PostgreSQL for the tests: the shared server (`WFM_REACTOR_TEST_POSTGRES`, default
//! `postgres://root@127.0.0.1:5432/test`), one fresh schema per test so tests run in
//! parallel, and an admin connection for what the tests do behind the daemon's back.

use super::{reachable, unavailable, unique};
use tokio_postgres::{Client, NoTls};

/// The shared server's base URL.
pub fn base_url() -> String {
    std::env::var("WFM_REACTOR_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into())
}

/// A schema of the test's own; dropped when this value is.
pub struct Schema {
    /// The schema name.
    pub name: String,
    /// A URL whose connections use only this schema (`search_path`).
    pub url: String,
    admin: Client,
}

impl Schema {
    /// Creates a fresh schema, or `None` (skipped) when PostgreSQL is away.
    pub async fn create_or_skip(test: &str) -> Option<Schema> {
        let base = base_url();
        let config: tokio_postgres::Config = base.parse().expect("WFM_REACTOR_TEST_POSTGRES is a URL");
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            _ => "127.0.0.1".into(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        if !reachable(&format!("{host}:{port}")).await {
            return unavailable(test, format!("PostgreSQL not reachable at {host}:{port}"));
        }
        let admin = connect(&base).await;
        let name = unique("wfmt");
        admin
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{name}");
        Some(Schema { name, url, admin })
    }

    /// The admin connection (not in the test's schema unless qualified).
    pub fn admin(&self) -> &Client {
        &self.admin
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        // lock_timeout: a session of the test still open (its task waits for this very
        // runtime thread) must not hang the drop; the schema is then left behind.
        let sql = format!(
            "SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {} CASCADE",
            self.name
        );
        let base = base_url();
        // Best effort, off the test's runtime (which may be shutting down).
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let c = connect(&base).await;
                let _ = c.batch_execute(&sql).await;
            });
        })
        .join()
        .ok();
    }
}

/// A plain connection (its driver task spawned).
pub async fn connect(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("connect to PostgreSQL");
    tokio::spawn(conn);
    client
}
