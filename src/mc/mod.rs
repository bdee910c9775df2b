//! The Monte Carlo engine, scenario-agnostic.
//!
//! A scenario supplies a pure function `(grid cell, replicate count, random stream) →
//! accumulator`. The engine cuts each cell's replicates into fixed-size chunks
//! ([`ChunkPlan`]), gives chunk `j` of cell `c` its own stream derived only from
//! `(seed, scenario, key(c), j)` ([`chunk_stream`]), where [`CellKey`] names the cell by its own
//! parameter values, runs chunks on a rayon pool, and combines
//! the chunk accumulators along a fixed pairwise tree over chunk indices ([`Block`],
//! [`run_to_completion`]). Hence the result is byte-identical for any thread count; a shard
//! ([`run_shard`]) is a contiguous slice of every cell's chunks, reduced to a few blocks, and
//! [`merge_shards`] completes the same tree. Finished work is checkpointed about once a
//! second, so an interrupted run resumes where it stopped.

mod checkpoint;
mod engine;
mod plan;
mod progress;
mod stream;
mod tree;

pub use engine::{
    Accumulator, CHECKPOINT_INTERVAL, EngineError, RunSpec, Stop, check_shard, merge_shards,
    run_shard, run_to_completion,
};
pub use plan::{CellKey, CellRange, CellWork, ChunkPlan, Shard, ShardParseError};
pub use progress::{Progress, Silent};
pub use stream::{StreamRng, chunk_stream, fnv1a, splitmix64};
pub use tree::Block;
