//! The Monte Carlo engine, scenario-agnostic.
//!
//! A scenario supplies a pure function `(grid cell, replicate count, random stream) →
//! accumulator`. The engine cuts each cell's replicates into fixed-size chunks
//! ([`ChunkPlan`]), gives chunk `j` of cell `c` its own stream derived only from
//! `(seed, scenario, c, j)` ([`chunk_stream`]), runs chunks on a rayon pool, and merges the
//! chunk accumulators **in chunk order** ([`run_to_completion`]). Hence the result is
//! byte-identical for any thread count; a shard ([`run_shard`]) is a subset of chunks, and
//! [`merge_shards`] performs the same ordered merge. Finished work is checkpointed, so an
//! interrupted run resumes where it stopped.

mod checkpoint;
mod engine;
mod plan;
mod progress;
mod stream;

pub use engine::{
    Accumulator, ChunkResult, EngineError, RunSpec, merge_shards, run_shard, run_to_completion,
};
pub use plan::{CellWork, ChunkId, ChunkPlan, Shard, ShardParseError};
pub use progress::{Progress, Silent};
pub use stream::{StreamRng, chunk_stream, fnv1a, splitmix64};
