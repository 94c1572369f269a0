//! sinks: not yet built (see the issues).
