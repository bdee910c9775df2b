//! The parallel, deterministic fan-out of chunks and their reduction along a fixed tree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::checkpoint::Checkpoint;
use super::plan::{CellRange, ChunkPlan, Shard};
use super::progress::Progress;
use super::stream::{StreamRng, chunk_stream};
use super::tree::{Block, check_blocks, fold_blocks, push_block};

/// The result of simulating a chunk: a summary that can absorb the summary of a later
/// chunk. It must not grow with the number of replicates (counts, moments, histograms over
/// a fixed range), and it must survive a JSON round trip exactly, since checkpoints and shard
/// files store it.
pub trait Accumulator: Serialize + DeserializeOwned + Send {
    /// Absorbs the accumulator of the next chunks in chunk order.
    fn merge(&mut self, later: Self);

    /// How many replicates it summarises, every outcome included (censored, diverged, …).
    /// The engine checks it against the plan: a chunk cut short by a stop request is
    /// discarded, and a shard file or checkpoint whose counts were altered is refused.
    fn replicates(&self) -> u64;
}

/// A request to stop, visible to a simulation in the middle of a chunk. A simulation that
/// sees it may return early with fewer replicates than asked; the engine then discards that
/// chunk and runs it again on resume.
#[derive(Debug, Clone, Copy)]
pub struct Stop<'a>(Option<&'a AtomicBool>);

impl<'a> Stop<'a> {
    /// A stop that is never requested (tests, closed-form checks).
    pub const NEVER: Stop<'static> = Stop(None);

    /// Follows `flag`.
    pub fn new(flag: &'a AtomicBool) -> Self {
        Stop(Some(flag))
    }

    /// Whether the run should stop as soon as possible.
    pub fn requested(&self) -> bool {
        self.0.is_some_and(|f| f.load(Ordering::Relaxed))
    }
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
    /// Set (e.g. by a SIGINT handler) to stop: chunks under way see it through [`Stop`].
    pub cancel: &'a AtomicBool,
}

/// Why a run did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The cancel flag was raised; finished chunks, if any, are in the checkpoint.
    #[error("interrupted after {finished} of {total} chunks{}", match checkpoint {
        Some(path) => format!("; finished work saved in {}, run the same command again to resume", path.display()),
        None => "; nothing to save".to_string(),
    })]
    Interrupted {
        /// Chunks finished and saved.
        finished: u64,
        /// Chunks in the run.
        total: u64,
        /// Where they are saved (`None` when nothing had finished or nothing is kept).
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
    /// Partial results that do not add up to the plan.
    #[error("cannot merge: {0}")]
    Incomplete(String),
    /// A simulation returned a different number of replicates than it was asked for.
    #[error(
        "internal error: cell {cell} chunk {chunk} returned {got} replicates instead of {asked}"
    )]
    Miscounted {
        /// Grid cell.
        cell: usize,
        /// Chunk index.
        chunk: u64,
        /// Replicates asked for.
        asked: u64,
        /// Replicates returned.
        got: u64,
    },
}

/// How often the checkpoint is rewritten while work finishes: a SIGKILL loses at most this
/// much finished work (plus the chunks under way).
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// Runs every chunk of `plan` and returns one accumulator per cell, reduced along the fixed
/// tree of [`super::tree`] — hence identical for any number of threads, shards or resumes.
///
/// `simulate(cell, replicates, rng, stop)` must be a pure function of its first three
/// arguments.
pub fn run_to_completion<A, F>(
    plan: &ChunkPlan,
    spec: &RunSpec,
    simulate: F,
) -> Result<Vec<A>, EngineError>
where
    A: Accumulator,
    F: Fn(usize, u64, &mut StreamRng, Stop) -> A + Sync,
{
    let blocks = run_ranges(plan, &plan.ranges(None), spec, &simulate)?;
    Ok(fold_blocks(plan, blocks))
}

/// Runs the chunks of one shard and returns its blocks (O(log chunks) per cell);
/// [`merge_shards`] later combines the blocks of all shards exactly as [`run_to_completion`]
/// would.
pub fn run_shard<A, F>(
    plan: &ChunkPlan,
    shard: Shard,
    spec: &RunSpec,
    simulate: F,
) -> Result<Vec<Block<A>>, EngineError>
where
    A: Accumulator,
    F: Fn(usize, u64, &mut StreamRng, Stop) -> A + Sync,
{
    run_ranges(plan, &plan.ranges(Some(shard)), spec, &simulate)
}

/// Checks that `blocks` are exactly the work of `shard` under `plan` (chunk ranges and
/// replicate counts).
pub fn check_shard<A: Accumulator>(
    plan: &ChunkPlan,
    shard: Shard,
    blocks: &[Block<A>],
) -> Result<(), EngineError> {
    check_blocks(plan, &plan.ranges(Some(shard)), blocks).map_err(EngineError::Incomplete)
}

/// Combines the blocks of all shards of a run into one accumulator per cell: the same bytes
/// as a single-machine run. Fails if a chunk is missing, repeated, not part of the plan, or
/// holds the wrong number of replicates.
pub fn merge_shards<A: Accumulator>(
    plan: &ChunkPlan,
    blocks: Vec<Block<A>>,
) -> Result<Vec<A>, EngineError> {
    check_blocks(plan, &plan.ranges(None), &blocks).map_err(EngineError::Incomplete)?;
    Ok(fold_blocks(plan, blocks))
}

/// The position of each chunk of `ranges` in one sequence (cells in order, chunks in order).
struct WorkList<'a> {
    ranges: &'a [CellRange],
    /// `starts[i]`: position of the first chunk of `ranges[i]`.
    starts: Vec<u64>,
    total: u64,
}

impl<'a> WorkList<'a> {
    fn new(ranges: &'a [CellRange]) -> Self {
        let mut starts = Vec::with_capacity(ranges.len());
        let mut total = 0u64;
        for r in ranges {
            starts.push(total);
            total += r.chunks.end - r.chunks.start;
        }
        WorkList {
            ranges,
            starts,
            total,
        }
    }

    /// `(cell, chunk index)` at a position below `total`. Empty ranges share their start
    /// with the next range, so the last range starting at or before `position` holds it.
    fn chunk_at(&self, position: u64) -> (usize, u64) {
        let i = self.starts.partition_point(|&s| s <= position) - 1;
        let range = &self.ranges[i];
        (range.cell, range.chunks.start + position - self.starts[i])
    }

    /// The chunk ranges of the first `position` chunks, one entry per cell.
    fn prefix(&self, position: u64) -> Vec<CellRange> {
        self.ranges
            .iter()
            .zip(&self.starts)
            .map(|(r, &s)| {
                let done = position
                    .saturating_sub(s)
                    .min(r.chunks.end - r.chunks.start);
                CellRange {
                    cell: r.cell,
                    chunks: r.chunks.start..r.chunks.start + done,
                }
            })
            .collect()
    }
}

/// The common loop. `threads` workers take chunk positions in order from a counter, at most
/// a window of a few chunks per thread ahead of the oldest unfinished one; this thread
/// absorbs their results strictly in position order into the block stack and rewrites the
/// checkpoint about once per [`CHECKPOINT_INTERVAL`] (and after every chunk once a stop is
/// requested, so a second interrupt loses nothing finished).
fn run_ranges<A, F>(
    plan: &ChunkPlan,
    ranges: &[CellRange],
    spec: &RunSpec,
    simulate: &F,
) -> Result<Vec<Block<A>>, EngineError>
where
    A: Accumulator,
    F: Fn(usize, u64, &mut StreamRng, Stop) -> A + Sync,
{
    let work = WorkList::new(ranges);
    let checkpoint = spec
        .checkpoint
        .map(|path| Checkpoint::new(path, spec.identity));
    let (mut finished, mut stack) = match &checkpoint {
        Some(c) => match c.load::<A>()? {
            Some((position, blocks)) => {
                if position > work.total {
                    return Err(c.damaged("it holds more chunks than the run has"));
                }
                check_blocks(plan, &work.prefix(position), &blocks).map_err(|e| c.damaged(&e))?;
                (position, blocks)
            }
            None => (0, Vec::new()),
        },
        None => (0, Vec::new()),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(spec.threads)
        .build()
        .map_err(|e| EngineError::ThreadPool {
            threads: spec.threads,
            message: e.to_string(),
        })?;
    let replicates_of = |cell: usize, chunk: u64| plan.cell(cell).replicates_of_chunk(chunk);
    let total: u64 = plan.replicates_in(ranges);
    let done: u64 = plan.replicates_in(&work.prefix(finished));
    spec.progress.start(total, done);

    let window = (spec.threads as u64 * 4).max(8);
    let next = AtomicU64::new(finished);
    let absorbed = (Mutex::new(finished), Condvar::new());
    let stop = Stop::new(spec.cancel);
    let (sender, results) = mpsc::channel::<(u64, A)>();
    let mut outcome = Ok(());
    // The workers are plain threads, not jobs of the pool: a chunk whose simulation is itself
    // parallel (rayon inside `simulate`, run in the pool by `install`) may then steal only
    // other simulations while it waits, never a worker loop that blocks on the window below —
    // which deadlocked when the loop it stole waited for the very chunk beneath it.
    std::thread::scope(|scope| {
        for _ in 0..spec.threads {
            let sender = sender.clone();
            let (next, absorbed, work, pool) = (&next, &absorbed, &work, &pool);
            scope.spawn(move || {
                loop {
                    if stop.requested() {
                        break;
                    }
                    let position = next.fetch_add(1, Ordering::SeqCst);
                    if position >= work.total {
                        break;
                    }
                    let (lock, turn) = absorbed;
                    let mut oldest = lock.lock().unwrap_or_else(|e| e.into_inner());
                    while position >= *oldest + window && !stop.requested() {
                        oldest = turn
                            .wait_timeout(oldest, Duration::from_millis(50))
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                    }
                    drop(oldest);
                    if stop.requested() {
                        break;
                    }
                    let (cell, chunk) = work.chunk_at(position);
                    let replicates = replicates_of(cell, chunk);
                    let key = plan.cell(cell).key;
                    let mut rng = chunk_stream(spec.seed, spec.scenario, key.0, chunk);
                    let accumulator = pool.install(|| simulate(cell, replicates, &mut rng, stop));
                    spec.progress
                        .advance(accumulator.replicates().min(replicates));
                    if sender.send((position, accumulator)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut pending: BTreeMap<u64, A> = BTreeMap::new();
        let mut last_save = Instant::now();
        let mut saved = finished;
        loop {
            let received = results.recv_timeout(Duration::from_millis(100));
            let disconnected = matches!(received, Err(mpsc::RecvTimeoutError::Disconnected));
            if let Ok((position, accumulator)) = received {
                pending.insert(position, accumulator);
            }
            while let Some(accumulator) = pending.remove(&finished) {
                let (cell, chunk) = work.chunk_at(finished);
                let asked = replicates_of(cell, chunk);
                let got = accumulator.replicates();
                if got != asked {
                    if !stop.requested() && outcome.is_ok() {
                        outcome = Err(EngineError::Miscounted {
                            cell,
                            chunk,
                            asked,
                            got,
                        });
                        spec.cancel.store(true, Ordering::SeqCst);
                    }
                    // A chunk cut short by the stop: it is run again on resume.
                    pending.clear();
                    break;
                }
                push_block(
                    &mut stack,
                    Block {
                        cell,
                        first_chunk: chunk,
                        level: 0,
                        accumulator,
                    },
                );
                finished += 1;
                *absorbed.0.lock().unwrap_or_else(|e| e.into_inner()) = finished;
                absorbed.1.notify_all();
            }
            let due = last_save.elapsed() >= CHECKPOINT_INTERVAL || stop.requested();
            if let Some(c) = &checkpoint
                && due
                && finished > saved
                && finished < work.total
                && outcome.is_ok()
            {
                if let Err(e) = c.save(finished, &stack) {
                    outcome = Err(e);
                    spec.cancel.store(true, Ordering::SeqCst);
                }
                saved = finished;
                last_save = Instant::now();
            }
            if disconnected {
                break;
            }
        }
    });
    spec.progress.finish();
    outcome?;
    if finished < work.total {
        return Err(EngineError::Interrupted {
            finished,
            total: work.total,
            checkpoint: spec.checkpoint.filter(|_| finished > 0).map(PathBuf::from),
        });
    }
    Ok(stack)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::Silent;
    use crate::stats::MeanVar;
    use rand::RngExt;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize)]
    struct Moments(MeanVar);

    impl Accumulator for Moments {
        fn merge(&mut self, later: Self) {
            self.0.merge(&later.0);
        }
        fn replicates(&self) -> u64 {
            self.0.count()
        }
    }

    fn simulate(cell: usize, replicates: u64, rng: &mut StreamRng, stop: Stop) -> Moments {
        let mut acc = MeanVar::default();
        for _ in 0..replicates {
            if stop.requested() {
                break;
            }
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
            key: crate::mc::CellKey(replicates),
        };
        ChunkPlan::new(vec![cell(1000), cell(333), cell(2500)]).unwrap()
    }

    /// A simulation that is itself parallel (rayon inside a chunk, as the network scenarios'
    /// chunked evaluators are) must not deadlock the engine: with the worker loops as jobs of
    /// the pool, a chunk waiting in a nested `join` could steal a loop that then waited on the
    /// window for that very chunk (seen as a hang of the critical-census determinism test).
    /// The first chunk simulated is slow so the window fills while it runs. Measured: the old
    /// engine hung in 3 of 3 runs of this test, the new one finishes in 0.36 s. Liveness is
    /// checked with a generous bound (60 s) so that a regression fails instead of hanging the
    /// suite.
    #[test]
    fn a_parallel_simulation_does_not_deadlock_the_engine() {
        use rayon::prelude::*;
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let cancel = AtomicBool::new(false);
            let many = ChunkPlan::new(vec![crate::mc::CellWork {
                replicates: 400,
                chunk: 1,
                key: crate::mc::CellKey(1),
            }])
            .unwrap();
            // Five runs: the hang depends on which thread picks up which job first.
            let mut replicates = Vec::new();
            for _ in 0..5 {
                let calls = std::sync::atomic::AtomicUsize::new(0);
                let nested = |cell, replicates, rng: &mut StreamRng, stop: Stop| {
                    let first = calls.fetch_add(1, Ordering::SeqCst) == 0;
                    let work: u64 = (0..64u64)
                        .into_par_iter()
                        .map(|i| {
                            if first {
                                std::thread::sleep(std::time::Duration::from_millis(2));
                            }
                            i
                        })
                        .sum();
                    assert_eq!(work, 2016);
                    simulate(cell, replicates, rng, stop)
                };
                let cells = run_to_completion(&many, &spec(2, None, &cancel), nested).unwrap();
                replicates.push(cells[0].replicates());
            }
            let _ = done.send(replicates);
        });
        let outcome = finished.recv_timeout(std::time::Duration::from_secs(60));
        assert_eq!(outcome, Ok(vec![400; 5]), "the engine did not finish");
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
            let mut blocks: Vec<Block<Moments>> = Vec::new();
            for index in (1..=count).rev() {
                let shard = Shard { index, count };
                let part = run_shard(&plan(), shard, &spec(2, None, &cancel), simulate).unwrap();
                check_shard(&plan(), shard, &part).unwrap();
                blocks.extend(part);
            }
            assert_eq!(
                bytes(&merge_shards(&plan(), blocks).unwrap()),
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
    fn a_miscounting_simulation_is_an_error_not_a_result() {
        let cancel = AtomicBool::new(false);
        let short = |cell, replicates: u64, rng: &mut StreamRng, stop: Stop| {
            simulate(cell, replicates.saturating_sub(1), rng, stop)
        };
        assert!(matches!(
            run_to_completion(&plan(), &spec(2, None, &cancel), short),
            Err(EngineError::Miscounted { .. })
        ));
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
        let interrupting = |cell, replicates, rng: &mut StreamRng, stop: Stop| {
            if calls.fetch_add(1, Ordering::SeqCst) == 10 {
                cancel.store(true, Ordering::SeqCst);
            }
            simulate(cell, replicates, rng, stop)
        };
        let first = run_to_completion(&plan(), &spec(2, Some(&path), &cancel), interrupting);
        assert!(matches!(first, Err(EngineError::Interrupted { finished, .. }) if finished > 0));
        let resumed_calls = std::sync::atomic::AtomicUsize::new(0);
        let counting = |cell, replicates, rng: &mut StreamRng, stop: Stop| {
            resumed_calls.fetch_add(1, Ordering::SeqCst);
            simulate(cell, replicates, rng, stop)
        };
        let go_on = AtomicBool::new(false);
        let resumed = run_to_completion(&plan(), &spec(3, Some(&path), &go_on), counting).unwrap();
        assert_eq!(bytes(&resumed), reference);
        assert!(
            (resumed_calls.load(Ordering::SeqCst) as u64) < plan().total_chunks(),
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

    #[test]
    fn a_long_chunk_sees_the_stop_and_is_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("toy.checkpoint.json");
        let cancel = AtomicBool::new(false);
        let plan = ChunkPlan::new(vec![crate::mc::CellWork {
            replicates: 4,
            chunk: 2,
            key: crate::mc::CellKey(0),
        }])
        .unwrap();
        // A chunk that would never end without the stop.
        let endless = |_, _, _: &mut StreamRng, stop: Stop| {
            cancel.store(true, Ordering::SeqCst);
            while !stop.requested() {
                std::hint::spin_loop();
            }
            Moments(MeanVar::default())
        };
        let started = Instant::now();
        let result = run_to_completion(&plan, &spec(1, Some(&path), &cancel), endless);
        assert!(matches!(
            result,
            Err(EngineError::Interrupted { finished: 0, .. })
        ));
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
