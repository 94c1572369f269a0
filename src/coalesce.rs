//! coalesce: not yet built (see the issues).
