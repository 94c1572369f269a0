//! sim: not yet built (see the issues).
