//! admin: not yet built (see the issues).
