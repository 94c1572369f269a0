//! reactor: not yet built (see the issues).
