//! Genesys oauth models: built by the upstream issue.
