//! One log setup for tests and benches: `RUST_LOG` if set, else warnings only, written
//! through the test writer so the harness captures it per test. Safe to call from every
//! test; only the first call installs the subscriber.

use std::sync::Once;

/// Installs the test subscriber once per process.
pub fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}
