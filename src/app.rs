//! app: not yet built (see the issues).
