//! Real-time adherence, computed locally: is each agent doing what the published schedule
//! says right now?
//!
//! A pure module — time is passed in, there is no clock inside — so that "the state at any
//! instant" is a plain function and can be property-tested against a from-scratch
//! evaluation. [`evaluate`] decides one agent's state at one instant from the scheduled
//! activity then ([`Timeline::at`]), presence and routing status; [`Timeline::next_boundary`]
//! says when that answer can next change without any presence change, which is all the
//! reactor's timer queue needs (cost per change, never per agent per tick).

mod category;
mod engine;
mod timeline;
mod tracker;

pub use category::{AdherenceState, Category, Mapping, MappingError};
pub use engine::{Evaluation, Inputs, evaluate};
pub use timeline::{Scheduled, Timeline};
pub use tracker::{Change, Tracker, Unit};

#[cfg(test)]
mod tests;
