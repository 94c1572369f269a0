//! Upper bounds on what upstream may send: numbers that become durations and bodies
//! that become memory.
//!
//! Genesys (or anything impersonating it, or a broken proxy in between) controls
//! `Retry-After`, `expires_in`, `lengthMinutes` and the size of every answer. None of
//! them may panic the daemon (`Instant + d` overflows), stall it (a pause of 10^18 s) or
//! exhaust its memory, so each is clamped or capped here, in one place, before use.

pub mod body;
pub mod numbers;

pub use body::{BodyError, read_capped};
pub use numbers::{MAX_RETRY_AFTER, MAX_TOKEN_LIFETIME, after, retry_after, token_lifetime};
