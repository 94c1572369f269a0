//! topics: not yet built (see the issues).
