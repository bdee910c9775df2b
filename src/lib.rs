//! stuck
pub mod atomic_file;
pub mod landscape;
pub mod mc;
pub mod scenarios;
pub mod stats;
