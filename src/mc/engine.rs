//! The parallel, deterministic fan-out of chunks and their ordered reduction.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::checkpoint::Checkpoint;
use super::plan::{ChunkId, ChunkPlan, Shard};
use super::progress::Progress;
use super::stream::{StreamRng, chunk_stream};

/// The result of simulating a chunk: a summary that can absorb the summary of a later
/// chunk. It must not grow with the number of replicates (counts, moments, histograms over
/// a fixed range), and it must survive a JSON round trip exactly, since checkpoints and shard
/// files store it.
pub trait Accumulator: Serialize + DeserializeOwned + Send {
    /// Absorbs the accumulator of the next chunk in merge order.
    fn merge(&mut self, later: Self);
}

/// The accumulator of one finished chunk, as stored in shard files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkResult<A> {
    /// Which chunk.
    pub chunk: ChunkId,
    /// What it produced.
    pub accumulator: A,
}

/// Everything the engine needs besides the plan and the simulation.
pub struct RunSpec<'a> {
    /// The user's seed.
    pub seed: u64,
    /// The scenario name, part of every stream's key.
    pub scenario: &'a str,
    /// Worker threads (≥ 1).
    pub threads: usize,
    /// Where to keep the checkpoint; `None` disables checkpointing.
    pub checkpoint: Option<&'a Path>,
    /// A canonical description of the run (version, parameters, seed, shard); a checkpoint
    /// written under another identity is refused.
    pub identity: &'a str,
    /// Progress reports.
    pub progress: &'a dyn Progress,
    /// Set (e.g. by a SIGINT handler) to stop after the chunks under way.
    pub cancel: &'a AtomicBool,
}

/// Why a run did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The cancel flag was raised; finished chunks are in the checkpoint.
    #[error("interrupted after {finished} of {total} chunks{}", match checkpoint {
        Some(path) => format!("; finished work saved in {}, run the same command again to resume", path.display()),
        None => String::new(),
    })]
    Interrupted {
        /// Chunks finished and saved.
        finished: usize,
        /// Chunks in the run.
        total: usize,
        /// Where they are saved.
        checkpoint: Option<PathBuf>,
    },
    /// The checkpoint could not be read or written.
    #[error("checkpoint {}: {message}", path.display())]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The thread pool could not be built.
    #[error("cannot start {threads} worker threads: {message}")]
    ThreadPool {
        /// Requested threads.
        threads: usize,
        /// The reason.
        message: String,
    },
    /// Shard results that do not add up to the plan.
    #[error("cannot merge: {0}")]
    Incomplete(String),
}

/// How often the checkpoint is rewritten at most: a SIGKILL loses at most this much work.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

/// Runs every chunk of `plan` and returns one accumulator per cell, each the left fold of
/// its chunks in chunk order — hence identical for any number of threads.
///
/// `simulate(cell, replicates, rng)` must be a pure function of its arguments.
pub fn run_to_completion<A, F>(
    plan: &ChunkPlan,
    spec: &RunSpec,
    simulate: F,
) -> Result<Vec<A>, EngineError>
where
    A: Accumulator,
    F: Fn(usize, u64, &mut StreamRng) -> A + Sync,
{
    let chunks = plan.chunks();
    let folded: Vec<Option<A>> = run_chunks(
        &chunks,
        spec,
        &simulate,
        (0..plan.cells()).map(|_| None).collect(),
        |state: &mut Vec<Option<A>>, chunk, acc| absorb_in_order(state, chunk.cell, acc),
    )?;
    every_cell(folded)
}

/// Runs the chunks of one shard and returns their accumulators, unmerged, in chunk order;
/// [`merge_shards`] later folds the union exactly as [`run_to_completion`] would.
pub fn run_shard<A, F>(
    plan: &ChunkPlan,
    shard: Shard,
    spec: &RunSpec,
    simulate: F,
) -> Result<Vec<ChunkResult<A>>, EngineError>
where
    A: Accumulator,
    F: Fn(usize, u64, &mut StreamRng) -> A + Sync,
{
    let chunks = plan.chunks_of(Some(shard));
    run_chunks(
        &chunks,
        spec,
        &simulate,
        Vec::new(),
        |state: &mut Vec<ChunkResult<A>>, chunk, accumulator| {
            state.push(ChunkResult {
                chunk: *chunk,
                accumulator,
            })
        },
    )
}

/// Folds the chunk results of all shards of a run, in chunk order, into one accumulator per
/// cell: the same bytes as a single-machine run. Fails if a chunk is missing, repeated or
/// not part of the plan.
pub fn merge_shards<A: Accumulator>(
    plan: &ChunkPlan,
    mut results: Vec<ChunkResult<A>>,
) -> Result<Vec<A>, EngineError> {
    results.sort_by_key(|r| (r.chunk.cell, r.chunk.index));
    let expected = plan.chunks();
    if results.len() != expected.len() || results.iter().zip(&expected).any(|(r, e)| r.chunk != *e)
    {
        return Err(EngineError::Incomplete(format!(
            "the shard files hold {} chunks but the run has {}; a shard is missing, repeated or from another run",
            results.len(),
            expected.len()
        )));
    }
    let mut cells: Vec<Option<A>> = (0..plan.cells()).map(|_| None).collect();
    for result in results {
        absorb_in_order(&mut cells, result.chunk.cell, result.accumulator);
    }
    every_cell(cells)
}

/// Left-folds a chunk's accumulator into its cell's running prefix (the merge order that
/// makes results independent of threads and shards).
fn absorb_in_order<A: Accumulator>(cells: &mut [Option<A>], cell: usize, acc: A) {
    match &mut cells[cell] {
        Some(prefix) => prefix.merge(acc),
        slot @ None => *slot = Some(acc),
    }
}

/// The per-cell results, or an error naming a cell that received no chunk.
fn every_cell<A>(cells: Vec<Option<A>>) -> Result<Vec<A>, EngineError> {
    cells
        .into_iter()
        .enumerate()
        .map(|(cell, acc)| {
            acc.ok_or_else(|| EngineError::Incomplete(format!("cell {cell} has no chunks")))
        })
        .collect()
}

/// The common loop: chunks are simulated in windows of a few per thread; within a window
/// they run in parallel, then are absorbed into `state` strictly in order, so memory holds
/// one window of accumulators at a time and the result does not depend on scheduling.
fn run_chunks<A, F, S>(
    chunks: &[ChunkId],
    spec: &RunSpec,
    simulate: &F,
    initial: S,
    absorb: impl Fn(&mut S, &ChunkId, A),
) -> Result<S, EngineError>
where
    A: Accumulator,
    F: Fn(usize, u64, &mut StreamRng) -> A + Sync,
    S: Serialize + DeserializeOwned,
{
    let checkpoint = spec
        .checkpoint
        .map(|path| Checkpoint::new(path, spec.identity));
    let (mut finished, mut state) = match &checkpoint {
        Some(c) => c.load::<S>()?.unwrap_or((0, initial)),
        None => (0, initial),
    };
    if finished > chunks.len() {
        return Err(EngineError::Incomplete(
            "checkpoint holds more chunks than the run".into(),
        ));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(spec.threads)
        .build()
        .map_err(|e| EngineError::ThreadPool {
            threads: spec.threads,
            message: e.to_string(),
        })?;
    let total: u64 = chunks.iter().map(|c| c.replicates).sum();
    let done: u64 = chunks[..finished].iter().map(|c| c.replicates).sum();
    spec.progress.start(total, done);
    let window = (spec.threads * 4).max(8);
    let mut last_save = Instant::now();
    let outcome = loop {
        if finished == chunks.len() {
            break Ok(());
        }
        if spec.cancel.load(Ordering::SeqCst) {
            break Err(EngineError::Interrupted {
                finished,
                total: chunks.len(),
                checkpoint: spec.checkpoint.map(PathBuf::from),
            });
        }
        let batch = &chunks[finished..(finished + window).min(chunks.len())];
        let results: Vec<A> = pool.install(|| {
            batch
                .par_iter()
                .map(|chunk| {
                    let mut rng =
                        chunk_stream(spec.seed, spec.scenario, chunk.cell as u64, chunk.index);
                    let acc = simulate(chunk.cell, chunk.replicates, &mut rng);
                    spec.progress.advance(chunk.replicates);
                    acc
                })
                .collect()
        });
        for (chunk, acc) in batch.iter().zip(results) {
            absorb(&mut state, chunk, acc);
        }
        finished += batch.len();
        if let Some(c) = &checkpoint
            && last_save.elapsed() >= CHECKPOINT_INTERVAL
            && finished < chunks.len()
        {
            c.save(finished, &state)?;
            last_save = Instant::now();
        }
    };
    spec.progress.finish();
    if let (Err(EngineError::Interrupted { .. }), Some(c)) = (&outcome, &checkpoint) {
        c.save(finished, &state)?;
    }
    outcome.map(|()| state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::Silent;
    use crate::stats::MeanVar;
    use rand::RngExt;

    #[derive(Serialize, Deserialize)]
    struct Moments(MeanVar);

    impl Accumulator for Moments {
        fn merge(&mut self, later: Self) {
            self.0.merge(&later.0);
        }
    }

    fn simulate(cell: usize, replicates: u64, rng: &mut StreamRng) -> Moments {
        let mut acc = MeanVar::default();
        for _ in 0..replicates {
            acc.push(cell as f64 + rng.random::<f64>());
        }
        Moments(acc)
    }

    fn spec<'a>(
        threads: usize,
        checkpoint: Option<&'a Path>,
        cancel: &'a AtomicBool,
    ) -> RunSpec<'a> {
        RunSpec {
            seed: 9,
            scenario: "toy",
            threads,
            checkpoint,
            identity: "toy-run",
            progress: &Silent,
            cancel,
        }
    }

    fn bytes(cells: &[Moments]) -> String {
        serde_json::to_string(&cells.iter().map(|m| m.0).collect::<Vec<_>>()).unwrap()
    }

    fn plan() -> ChunkPlan {
        let cell = |replicates| crate::mc::CellWork {
            replicates,
            chunk: 64,
        };
        ChunkPlan::new(vec![cell(1000), cell(333), cell(2500)]).unwrap()
    }

    #[test]
    fn identical_for_any_thread_count() {
        let cancel = AtomicBool::new(false);
        let reference =
            bytes(&run_to_completion(&plan(), &spec(1, None, &cancel), simulate).unwrap());
        for threads in [2, 3, 8] {
            let other = bytes(
                &run_to_completion(&plan(), &spec(threads, None, &cancel), simulate).unwrap(),
            );
            assert_eq!(reference, other, "threads = {threads}");
        }
    }

    #[test]
    fn shards_merge_to_the_single_run() {
        let cancel = AtomicBool::new(false);
        let reference =
            bytes(&run_to_completion(&plan(), &spec(2, None, &cancel), simulate).unwrap());
        for count in [1, 2, 5] {
            let mut results: Vec<ChunkResult<Moments>> = Vec::new();
            for index in (1..=count).rev() {
                results.extend(
                    run_shard(
                        &plan(),
                        Shard { index, count },
                        &spec(2, None, &cancel),
                        simulate,
                    )
                    .unwrap(),
                );
            }
            assert_eq!(
                bytes(&merge_shards(&plan(), results).unwrap()),
                reference,
                "{count} shards"
            );
        }
        let partial = run_shard(
            &plan(),
            Shard { index: 1, count: 2 },
            &spec(1, None, &cancel),
            simulate,
        )
        .unwrap();
        assert!(merge_shards(&plan(), partial).is_err());
    }

    #[test]
    fn interrupted_run_resumes_to_the_same_result() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("toy.checkpoint.json");
        let cancel = AtomicBool::new(false);
        let reference =
            bytes(&run_to_completion(&plan(), &spec(2, None, &cancel), simulate).unwrap());
        // Cancel from inside the simulation once a few chunks are done.
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let interrupting = |cell, replicates, rng: &mut StreamRng| {
            if calls.fetch_add(1, Ordering::SeqCst) == 10 {
                cancel.store(true, Ordering::SeqCst);
            }
            simulate(cell, replicates, rng)
        };
        let first = run_to_completion(&plan(), &spec(2, Some(&path), &cancel), interrupting);
        assert!(matches!(first, Err(EngineError::Interrupted { finished, .. }) if finished > 0));
        let resumed_calls = std::sync::atomic::AtomicUsize::new(0);
        let counting = |cell, replicates, rng: &mut StreamRng| {
            resumed_calls.fetch_add(1, Ordering::SeqCst);
            simulate(cell, replicates, rng)
        };
        let go_on = AtomicBool::new(false);
        let resumed = run_to_completion(&plan(), &spec(3, Some(&path), &go_on), counting).unwrap();
        assert_eq!(bytes(&resumed), reference);
        assert!(
            resumed_calls.load(Ordering::SeqCst) < plan().chunks().len(),
            "finished chunks were redone"
        );
        // A checkpoint from another run is refused, not silently mixed in.
        let other = RunSpec {
            identity: "other-run",
            ..spec(1, Some(&path), &go_on)
        };
        assert!(matches!(
            run_to_completion(&plan(), &other, simulate),
            Err(EngineError::Checkpoint { .. })
        ));
    }
}
