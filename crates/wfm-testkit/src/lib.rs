//! The test kit: fixtures shared by the daemon's integration tests and its benches.
#![forbid(unsafe_code)]
