//! events: not yet built (see the issues).
