//! wfm: not yet built (see the issues).
