//! sinks: placeholder while the store compiles.
