//! Runs a scenario end to end: resolve parameters, run the engine with a checkpoint and a
//! progress bar, write CSV and manifest; merge shard files. This is the glue between the
//! scenario-agnostic engine, the scenarios and the output; the CLI calls it.

mod bench;
mod error;
mod merge;
mod mpi_world;
mod params_listing;
mod progress_bar;
mod rerun;

pub use bench::{BenchRequest, run_bench};
pub use error::{EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED, RunError, nearest};
pub use merge::merge;
pub use mpi_world::MpiWorld;
pub use params_listing::params_listing;
pub use progress_bar::TerminalProgress;
pub use rerun::{RerunRequest, rerun_request};

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use toml::Table;

use crate::mc::{self, ChunkPlan, RunSpec, Shard, fnv1a};
use crate::output::{
    self, Manifest, OutputDir, ResultIdentity, ShardFile, ShardHeader, TOOL_VERSION,
    read_shard_header,
};
use crate::report::{Finding, Report};
use crate::scenarios::params::{apply_overrides, parse_assignment, read_config};
use crate::scenarios::spec::ScenarioSpec;
use crate::scenarios::{Experiment, ExperimentVisitor, SCENARIO_NAMES, dispatch, spec_of};

/// One scenario run as the user asked for it.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// Scenario name.
    pub scenario: String,
    /// Profile (`quick`, `paper`).
    pub profile: String,
    /// Seed of every random stream.
    pub seed: u64,
    /// Worker threads.
    pub threads: usize,
    /// Output directory.
    pub out: PathBuf,
    /// `--set key=value` overrides, applied after the config file.
    pub sets: Vec<String>,
    /// `--config FILE` overrides.
    pub config: Option<PathBuf>,
    /// Resolved parameters read from a manifest (`stuck rerun`), applied after the profile
    /// and before the config file; every key must exist in the scenario.
    pub params: Option<Table>,
    /// No progress bar.
    pub quiet: bool,
    /// Run only this shard.
    pub shard: Option<Shard>,
    /// Spread the run over the ranks of an MPI job (`mpirun -n P stuck … --mpi`).
    pub mpi: bool,
    /// Replace the results of a different run in `out`.
    pub force: bool,
}

/// What a finished command produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Scenario name.
    pub scenario: String,
    /// Verdicts (empty for a shard run, which has no verdict until merged).
    pub findings: Vec<Finding>,
    /// Files written.
    pub written: Vec<PathBuf>,
    /// Whether finished work was restored from a checkpoint.
    pub resumed: bool,
    /// Replicates simulated by the run (or shard), for throughput.
    pub samples: u64,
}

/// The spec of `name`, or an "unknown scenario" error with the nearest name.
pub fn find_spec(name: &str) -> Result<ScenarioSpec, RunError> {
    match spec_of(name) {
        Some(spec) => Ok(spec?),
        None => Err(RunError::UnknownScenario {
            name: name.to_string(),
            suggestion: nearest(name, SCENARIO_NAMES.iter().copied()).map(str::to_string),
        }),
    }
}

/// The parameter table of a run: the profile, then a manifest's parameters, then the config
/// file, then `--set`.
pub fn resolve_params(spec: &ScenarioSpec, request: &RunRequest) -> Result<Table, RunError> {
    let mut table = spec.profile(&request.profile)?;
    if let Some(params) = &request.params {
        apply_overrides(&spec.name, &mut table, params.clone())?;
    }
    if let Some(path) = &request.config {
        apply_overrides(&spec.name, &mut table, read_config(path)?)?;
    }
    let sets = request
        .sets
        .iter()
        .map(|s| parse_assignment(s))
        .collect::<Result<Vec<_>, _>>()?;
    apply_overrides(&spec.name, &mut table, sets)?;
    Ok(table)
}

/// Runs one scenario (or one shard of it) and writes its outputs.
pub fn run_scenario(request: &RunRequest, cancel: &AtomicBool) -> Result<RunOutcome, RunError> {
    let spec = find_spec(&request.scenario)?;
    let params = resolve_params(&spec, request)?;
    let name = spec.name.clone();
    dispatch(
        spec,
        ScenarioRun {
            request,
            params,
            cancel,
        },
    )
    .ok_or_else(|| RunError::Internal(format!("scenario {name} is not registered")))?
}

struct ScenarioRun<'a> {
    request: &'a RunRequest,
    params: Table,
    cancel: &'a AtomicBool,
}

/// How a run is spread: one process, one shard of a multi-machine run, or one rank of an
/// MPI job.
enum Mode {
    Whole,
    Shard(Shard),
    Mpi(MpiWorld),
}

impl Mode {
    fn choose(request: &RunRequest) -> Result<Mode, RunError> {
        Ok(match (request.mpi, request.shard) {
            (true, _) => Mode::Mpi(MpiWorld::initialize()?),
            (false, Some(shard)) => Mode::Shard(shard),
            (false, None) => Mode::Whole,
        })
    }

    /// The chunks this process runs.
    fn shard(&self) -> Option<Shard> {
        match self {
            Mode::Whole => None,
            Mode::Shard(shard) => Some(*shard),
            Mode::Mpi(world) => Some(Shard {
                index: world.rank() + 1,
                count: world.size(),
            }),
        }
    }

    /// Whether this process writes the run's results (MPI: rank 0 only).
    fn writes_results(&self) -> bool {
        match self {
            Mode::Mpi(world) => world.rank() == 0,
            _ => true,
        }
    }
}

impl ExperimentVisitor for ScenarioRun<'_> {
    type Output = Result<RunOutcome, RunError>;

    fn visit<E: Experiment>(self, spec: ScenarioSpec) -> Self::Output {
        let started = Instant::now();
        let request = self.request;
        let experiment = E::from_params(&self.params)?;
        let plan = plan_of(&experiment)?;
        check_memory(&experiment, request.threads)?;
        let mode = Mode::choose(request)?;
        let shard = mode.shard();
        check_shard_count(&plan, shard)?;
        // Every MPI rank keeps its own checkpoint in rank 0's folder; only rank 0 locks it.
        let out = OutputDir::open(&request.out, mode.writes_results())?;
        let identity = self.result_identity(&spec);
        if mode.writes_results() {
            match &mode {
                Mode::Shard(shard) => check_shard_replaceable(
                    &request.out,
                    &spec.name,
                    *shard,
                    &identity,
                    request.force,
                )?,
                _ => identity.check_replaceable(&request.out, request.force)?,
            }
        }
        let run_key = run_identity(&spec.name, &self.params, request.seed, shard);
        let checkpoint = checkpoint_path(&request.out, &spec.name, &run_key);
        let resumed = checkpoint.exists();
        let progress = TerminalProgress::new(&spec.name, request.quiet || !mode.writes_results());
        let run_spec = RunSpec {
            seed: request.seed,
            scenario: &spec.name,
            threads: request.threads,
            checkpoint: Some(&checkpoint),
            identity: &run_key,
            progress: &progress,
            cancel: self.cancel,
        };
        let simulate = |cell, replicates, rng: &mut mc::StreamRng, stop: mc::Stop| {
            experiment.simulate(cell, replicates, rng, stop)
        };
        let context = ManifestContext {
            identity: &identity,
            claims: &spec.claims,
            test: &spec.test,
            threads: Some(request.threads),
            merged_shards: None,
            resumed,
            started,
        };
        let (written, findings) = match &mode {
            Mode::Whole => {
                let cells = mc::run_to_completion(&plan, &run_spec, simulate)?;
                let report = experiment.report(&cells)?;
                write_outputs(out.path(), &report, context)?
            }
            Mode::Shard(shard) => {
                let blocks = mc::run_shard(&plan, *shard, &run_spec, simulate)?;
                let path = self.write_shard_file(&spec, *shard, blocks)?;
                (vec![path], Vec::new())
            }
            Mode::Mpi(world) => {
                let shard = shard.expect("an MPI rank is a shard");
                let blocks = mc::run_shard(&plan, shard, &run_spec, simulate)?;
                let bytes =
                    serde_json::to_vec(&blocks).map_err(|e| RunError::Internal(e.to_string()))?;
                match world.gather_to_root(&bytes)? {
                    None => (Vec::new(), Vec::new()),
                    Some(parts) => {
                        let mut all = Vec::new();
                        for (rank, part) in parts.iter().enumerate() {
                            let blocks: Vec<mc::Block<E::Accumulator>> =
                                serde_json::from_slice(part)
                                    .map_err(|e| RunError::Internal(e.to_string()))?;
                            let shard = Shard {
                                index: rank as u32 + 1,
                                count: shard.count,
                            };
                            mc::check_shard(&plan, shard, &blocks)?;
                            all.extend(blocks);
                        }
                        let context = ManifestContext {
                            merged_shards: Some(shard.count),
                            ..context
                        };
                        merge_and_report(&experiment, &plan, all, out.path(), context)?
                    }
                }
            }
        };
        remove_checkpoint(&checkpoint);
        Ok(RunOutcome {
            scenario: spec.name,
            findings,
            written,
            resumed,
            samples: plan.replicates(shard),
        })
    }
}

impl ScenarioRun<'_> {
    fn result_identity(&self, spec: &ScenarioSpec) -> ResultIdentity {
        ResultIdentity::of_this_build(
            &spec.name,
            &self.request.profile,
            &self.params,
            self.request.seed,
        )
    }

    fn write_shard_file<A: mc::Accumulator>(
        &self,
        spec: &ScenarioSpec,
        shard: Shard,
        blocks: Vec<mc::Block<A>>,
    ) -> Result<PathBuf, RunError> {
        let file = ShardFile {
            header: ShardHeader {
                format: output::SHARD_FORMAT.into(),
                version: TOOL_VERSION.into(),
                scenario: spec.name.clone(),
                profile: self.request.profile.clone(),
                params: self.params.clone(),
                seed: self.request.seed,
                shard,
            },
            blocks,
        };
        Ok(output::write_shard_file(&self.request.out, &file)?)
    }
}

/// Checks every shard's blocks, folds them into the cells' accumulators, and writes the
/// report: what `stuck merge` and MPI rank 0 both do once all shards are in.
fn merge_and_report<E: Experiment>(
    experiment: &E,
    plan: &ChunkPlan,
    blocks: Vec<mc::Block<E::Accumulator>>,
    out: &Path,
    context: ManifestContext,
) -> Result<(Vec<PathBuf>, Vec<Finding>), RunError> {
    let cells = mc::merge_shards(plan, blocks)?;
    let report = experiment.report(&cells)?;
    write_outputs(out, &report, context)
}

/// The chunk plan of an experiment.
fn plan_of<E: Experiment>(experiment: &E) -> Result<ChunkPlan, RunError> {
    ChunkPlan::new(experiment.work())
        .ok_or_else(|| RunError::Internal("a cell has no replicates or the chunk size is 0".into()))
}

/// A run may not have more shards than its largest cell has chunks (a shard would have
/// nothing to do).
fn check_shard_count(plan: &ChunkPlan, shard: Option<Shard>) -> Result<(), RunError> {
    match shard {
        Some(s) if u64::from(s.count) > plan.max_shards() => Err(RunError::TooManyShards {
            shard: s,
            most: plan.max_shards(),
        }),
        _ => Ok(()),
    }
}

/// Refuses a run whose chunks under way would need more memory than the process may have
/// (see [`memory_limit`]), instead of letting the allocator abort it.
fn check_memory<E: Experiment>(experiment: &E, threads: usize) -> Result<(), RunError> {
    let needed = experiment.bytes_per_chunk().saturating_mul(threads as u64);
    if needed == 0 {
        // Nothing large is allocated per chunk: no estimate to compare.
        return Ok(());
    }
    match memory_limit() {
        Some((available, source)) if needed.saturating_add(MEMORY_MARGIN) > available => {
            Err(RunError::TooMuchMemory {
                needed,
                threads,
                available,
                limit: source,
            })
        }
        _ => Ok(()),
    }
}

/// What the process itself needs besides its chunks (binary, thread stacks, buffers), kept
/// free when comparing a run with the memory limit.
const MEMORY_MARGIN: u64 = 256 << 20;

/// The memory this process may use, and where the limit comes from: the smallest of the
/// machine's available memory (`MemAvailable` in `/proc/meminfo`), the address-space limit
/// (`ulimit -v`, from `/proc/self/limits`) and the cgroup's `memory.max`. `None` where none
/// can be read.
fn memory_limit() -> Option<(u64, &'static str)> {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let available = read("/proc/meminfo").and_then(|info| {
        let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some((kib.saturating_mul(1024), "available memory"))
    });
    let address_space = read("/proc/self/limits").and_then(|limits| {
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max address space"))?;
        let soft: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
        Some((soft, "address-space limit (ulimit -v)"))
    });
    let cgroup = read("/sys/fs/cgroup/memory.max")
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map(|bytes| (bytes, "cgroup memory limit"));
    [available, address_space, cgroup]
        .into_iter()
        .flatten()
        .min_by_key(|(bytes, _)| *bytes)
}

/// A shard file of this scenario and shard already in `out` must come from the same run,
/// unless `force`.
fn check_shard_replaceable(
    out: &Path,
    scenario: &str,
    shard: Shard,
    identity: &ResultIdentity,
    force: bool,
) -> Result<(), RunError> {
    let path = out.join(output::shard_file_name(scenario, shard));
    if force || !path.exists() {
        return Ok(());
    }
    // A shard header records no commit: compare everything else.
    let same = read_shard_header(&path).is_ok_and(|(header, _)| {
        let existing = ResultIdentity {
            version: header.version,
            ..ResultIdentity::of_this_build(scenario, &header.profile, &header.params, header.seed)
        };
        existing == *identity
    });
    if same {
        Ok(())
    } else {
        Err(RunError::Output(output::OutputError {
            path,
            message: "belongs to a different run; use another --out, or --force to replace it"
                .into(),
        }))
    }
}

/// A canonical text naming everything that determines a run's results: a checkpoint or a
/// shard is only ever combined with work of the same identity.
fn run_identity(scenario: &str, params: &Table, seed: u64, shard: Option<Shard>) -> String {
    serde_json::json!({
        "tool": "stuck",
        "version": TOOL_VERSION,
        "scenario": scenario,
        "params": params,
        "seed": seed,
        "shard": shard.map(|s| s.to_string()),
    })
    .to_string()
}

/// `<out>/.stuck-checkpoints/<scenario>-<hash of identity>.json`.
fn checkpoint_path(out: &Path, scenario: &str, identity: &str) -> PathBuf {
    out.join(output::CHECKPOINT_DIR)
        .join(format!("{scenario}-{:016x}.json", fnv1a(identity)))
}

fn remove_checkpoint(path: &Path) {
    // The outputs are already written; a leftover checkpoint only costs disk space.
    let _ = std::fs::remove_file(path);
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir(dir);
    }
}

/// What the manifest needs beyond the report.
struct ManifestContext<'a> {
    identity: &'a ResultIdentity,
    claims: &'a [String],
    test: &'a str,
    threads: Option<usize>,
    merged_shards: Option<u32>,
    resumed: bool,
    started: Instant,
}

/// Writes the CSV tables, plots and manifest as one set; returns the paths and findings.
fn write_outputs(
    out: &Path,
    report: &Report,
    context: ManifestContext,
) -> Result<(Vec<PathBuf>, Vec<Finding>), RunError> {
    let identity = context.identity;
    let written = output::write_results(out, &identity.scenario, report, |outputs| Manifest {
        tool: "stuck",
        version: TOOL_VERSION,
        git_commit: output::git_commit(),
        git_dirty: output::git_dirty(),
        rustc: output::rustc_version(),
        command_line: std::env::args().collect(),
        finished_utc: output::utc_now(),
        scenario: identity.scenario.clone(),
        claims: context.claims.to_vec(),
        profile: identity.profile.clone(),
        params: identity.params.clone(),
        seed: identity.seed,
        threads: context.threads,
        merged_shards: context.merged_shards,
        resumed: context.resumed,
        wall_seconds: context.started.elapsed().as_secs_f64(),
        cpu_model: output::cpu_model(),
        outputs: outputs.into_iter().collect(),
        test: context.test.to_string(),
        findings: report.findings.clone(),
    })?;
    Ok((written, report.findings.clone()))
}

/// The verdicts of the last run of `scenario` in `out`, from its manifest, if any.
pub fn last_verdicts(out: &Path, scenario: &str) -> Option<Vec<(String, String, String)>> {
    let text = std::fs::read_to_string(output::manifest_path(out, scenario)).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
    let findings = manifest.get("findings")?.as_array()?;
    Some(
        findings
            .iter()
            .map(|f| {
                let field = |k: &str| f.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                (field("claim"), field("subject"), field("verdict"))
            })
            .collect(),
    )
}
