//! Genesys error models: built by the reactor issue.
