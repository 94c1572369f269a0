//! notifications: not yet built (see the issues).
