//! auth: not yet built (see the issues).
