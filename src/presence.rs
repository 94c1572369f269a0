//! presence: not yet built (see the issues).
