//! Genesys wfm models: built by the reactor issue.
