//! store: not yet built (see the issues).
