//! stats only for now
pub mod stats;
