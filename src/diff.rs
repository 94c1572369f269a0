//! diff: not yet built (see the issues).
