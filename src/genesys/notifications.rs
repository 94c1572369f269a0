//! Genesys notifications models: built by the upstream issue.
