//! Runs a scenario end to end: resolve parameters, run the engine with a checkpoint and a
//! progress bar, write CSV and manifest; merge shard files. This is the glue between the
//! scenario-agnostic engine, the scenarios and the output; the CLI calls it.

mod bench;
mod error;
mod merge;
mod mpi_world;
mod progress_bar;

pub use bench::{BenchRequest, run_bench};
pub use error::{EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED, RunError, nearest};
pub use merge::merge;
pub use mpi_world::MpiWorld;
pub use progress_bar::TerminalProgress;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use toml::Table;

use crate::atomic_file::write_atomically;
use crate::mc::{self, ChunkPlan, RunSpec, Shard, fnv1a};
use crate::output::{self, Manifest, ShardFile, ShardHeader, TOOL_VERSION};
use crate::scenarios::params::{apply_overrides, parse_assignment, read_config};
use crate::scenarios::report::{Finding, Report};
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
    /// No progress bar.
    pub quiet: bool,
    /// Run only this shard.
    pub shard: Option<Shard>,
    /// Spread the run over the ranks of an MPI job (`mpirun -n P stuck … --mpi`).
    pub mpi: bool,
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

/// The parameter table of a run: the profile, then the config file, then `--set`.
pub fn resolve_params(spec: &ScenarioSpec, request: &RunRequest) -> Result<Table, RunError> {
    let mut table = spec.profile(&request.profile)?;
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
        &name,
        ScenarioRun {
            request,
            params,
            cancel,
        },
    )
    .ok_or_else(|| RunError::Internal(format!("scenario {name} is not registered")))??
}

struct ScenarioRun<'a> {
    request: &'a RunRequest,
    params: Table,
    cancel: &'a AtomicBool,
}

impl ExperimentVisitor for ScenarioRun<'_> {
    type Output = Result<RunOutcome, RunError>;

    fn visit<E: Experiment>(self, spec: ScenarioSpec) -> Self::Output {
        let started = Instant::now();
        let request = self.request;
        let experiment = E::from_params(&self.params)?;
        let plan = plan_of(&experiment)?;
        let world = if request.mpi {
            Some(MpiWorld::initialize()?)
        } else {
            None
        };
        let shard = match &world {
            Some(world) => Some(Shard {
                index: world.rank() + 1,
                count: world.size(),
            }),
            None => request.shard,
        };
        // Every rank keeps its own checkpoint there; only rank 0 writes the outputs.
        output::prepare_output_dir(&request.out)?;
        let writes_outputs = world.as_ref().is_none_or(|w| w.rank() == 0);
        let identity = run_identity(&spec.name, &self.params, request.seed, shard);
        let checkpoint = checkpoint_path(&request.out, &spec.name, &identity);
        let resumed = checkpoint.exists();
        let progress = TerminalProgress::new(&spec.name, request.quiet || !writes_outputs);
        let run_spec = RunSpec {
            seed: request.seed,
            scenario: &spec.name,
            threads: request.threads,
            checkpoint: Some(&checkpoint),
            identity: &identity,
            progress: &progress,
            cancel: self.cancel,
        };
        let simulate =
            |cell, replicates, rng: &mut mc::StreamRng| experiment.simulate(cell, replicates, rng);
        let samples = plan.chunks_of(shard).iter().map(|c| c.replicates).sum();
        let context = ManifestContext {
            profile: request.profile.clone(),
            params: &self.params,
            seed: request.seed,
            threads: Some(request.threads),
            merged_shards: None,
            resumed,
            started,
        };
        let (written, findings) = match (shard, &world) {
            (Some(shard), Some(world)) => {
                let chunks = mc::run_shard(&plan, shard, &run_spec, simulate)?;
                let bytes =
                    serde_json::to_vec(&chunks).map_err(|e| RunError::Internal(e.to_string()))?;
                match world.gather_to_root(&bytes)? {
                    None => (Vec::new(), Vec::new()),
                    Some(parts) => {
                        let mut all: Vec<mc::ChunkResult<E::Accumulator>> = Vec::new();
                        for part in parts {
                            let chunks: Vec<mc::ChunkResult<E::Accumulator>> =
                                serde_json::from_slice(&part)
                                    .map_err(|e| RunError::Internal(e.to_string()))?;
                            all.extend(chunks);
                        }
                        let cells = mc::merge_shards(&plan, all)?;
                        let report = experiment.report(&cells)?;
                        let context = ManifestContext {
                            merged_shards: Some(shard.count),
                            ..context
                        };
                        write_outputs(&request.out, &spec, &report, context)?
                    }
                }
            }
            (Some(shard), None) => {
                let chunks = mc::run_shard(&plan, shard, &run_spec, simulate)?;
                let file = ShardFile {
                    header: ShardHeader {
                        format: output::SHARD_FORMAT.into(),
                        version: TOOL_VERSION.into(),
                        scenario: spec.name.clone(),
                        profile: request.profile.clone(),
                        params: self.params.clone(),
                        seed: request.seed,
                        shard,
                    },
                    chunks,
                };
                let path = request.out.join(output::shard_file_name(&spec.name, shard));
                let bytes =
                    serde_json::to_vec(&file).map_err(|e| RunError::Internal(e.to_string()))?;
                write_atomically(&path, &bytes).map_err(|e| output::OutputError {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                (vec![path], Vec::new())
            }
            (None, _) => {
                let cells = mc::run_to_completion(&plan, &run_spec, simulate)?;
                let report = experiment.report(&cells)?;
                write_outputs(&request.out, &spec, &report, context)?
            }
        };
        remove_checkpoint(&checkpoint);
        Ok(RunOutcome {
            scenario: spec.name,
            findings,
            written,
            resumed,
            samples,
        })
    }
}

/// The chunk plan of an experiment.
fn plan_of<E: Experiment>(experiment: &E) -> Result<ChunkPlan, RunError> {
    ChunkPlan::new(experiment.work())
        .ok_or_else(|| RunError::Internal("a cell has no replicates or the chunk size is 0".into()))
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
    out.join(".stuck-checkpoints")
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
    profile: String,
    params: &'a Table,
    seed: u64,
    threads: Option<usize>,
    merged_shards: Option<u32>,
    resumed: bool,
    started: Instant,
}

/// Writes the CSV tables, then the manifest; returns the paths and the findings.
fn write_outputs(
    out: &Path,
    spec: &ScenarioSpec,
    report: &Report,
    context: ManifestContext,
) -> Result<(Vec<PathBuf>, Vec<Finding>), RunError> {
    let mut written = output::write_tables(out, &spec.name, report)?;
    written.extend(output::write_plots(out, &spec.name, report)?);
    let manifest = Manifest {
        tool: "stuck",
        version: TOOL_VERSION,
        git_commit: output::git_commit(),
        scenario: spec.name.clone(),
        claims: spec.claims.clone(),
        profile: context.profile,
        params: serde_json::to_value(context.params).unwrap_or_default(),
        seed: context.seed,
        threads: context.threads,
        shard: None,
        merged_shards: context.merged_shards,
        resumed: context.resumed,
        wall_seconds: context.started.elapsed().as_secs_f64(),
        cpu_model: output::cpu_model(),
        outputs: written
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect(),
        test: spec.test.clone(),
        findings: report.findings.clone(),
    };
    written.push(output::write_manifest(out, &manifest)?);
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
