//! stats only for now
pub mod atomic_file;
pub mod mc;
pub mod stats;
