//! genesys: not yet built (see the issues).
