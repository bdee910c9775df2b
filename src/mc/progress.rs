//! How the engine reports progress without knowing about terminals.

/// Receives progress reports from the engine. Called once per finished chunk (never from
/// the inner loop of a simulation), from any worker thread.
pub trait Progress: Sync {
    /// The run is about to start: `total` replicates, of which `already_done` were restored
    /// from a checkpoint.
    fn start(&self, total: u64, already_done: u64);
    /// A chunk of `replicates` samples has finished.
    fn advance(&self, replicates: u64);
    /// The run has ended (finished or interrupted).
    fn finish(&self);
}

/// A progress sink that ignores everything (tests, `--quiet`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: u64, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}
