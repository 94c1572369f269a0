//! Genesys presence models: built by the reactor issue.
