//! `stuck merge`: combines the shard files of one run into the CSV and manifest a single
//! machine would have written, byte for byte.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{ManifestContext, RunError, RunOutcome, find_spec, plan_of, write_outputs};
use crate::mc;
use crate::output::{self, ShardFile, ShardHeader, TOOL_VERSION, read_shard_header};
use crate::scenarios::spec::ScenarioSpec;
use crate::scenarios::{Experiment, ExperimentVisitor, dispatch};

/// Merges the shard files found in `inputs` (directories are searched for
/// `*.shard-K-of-N.json`; files are taken as given) and writes the outputs to `out`.
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<RunOutcome, RunError> {
    let started = Instant::now();
    let files = shard_files(inputs)?;
    let mut shards: Vec<(PathBuf, ShardHeader, String)> = Vec::new();
    for path in files {
        let (header, text) = read_shard_header(&path).map_err(RunError::Merge)?;
        shards.push((path, header, text));
    }
    check_compatible(&shards)?;
    let first = &shards[0].1;
    if first.version != TOOL_VERSION {
        return Err(RunError::Merge(format!(
            "the shards were written by stuck {}, this is stuck {TOOL_VERSION}; merge them with the version that wrote them",
            first.version
        )));
    }
    let spec = find_spec(&first.scenario)?;
    output::prepare_output_dir(out)?;
    let scenario = spec.name.clone();
    dispatch(
        &scenario,
        MergeShards {
            shards: &shards,
            out,
            started,
        },
    )
    .ok_or_else(|| RunError::Internal(format!("scenario {scenario} is not registered")))??
}

/// The shard files named by `inputs`, sorted by path.
fn shard_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, RunError> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let entries = std::fs::read_dir(input)
                .map_err(|e| RunError::Merge(format!("cannot read {}: {e}", input.display())))?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.contains(".shard-") && name.ends_with(".json") {
                    files.push(entry.path());
                }
            }
        } else if input.is_file() {
            files.push(input.clone());
        } else {
            return Err(RunError::Merge(format!(
                "{} does not exist",
                input.display()
            )));
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(RunError::Merge(
            "no shard files (*.shard-K-of-N.json) in the given paths".into(),
        ));
    }
    Ok(files)
}

/// Every shard must come from the same run (version, scenario, profile, parameters, seed,
/// shard count), and together they must be shards 1..=N exactly once each.
fn check_compatible(shards: &[(PathBuf, ShardHeader, String)]) -> Result<(), RunError> {
    let (first_path, first, _) = &shards[0];
    for (path, header, _) in &shards[1..] {
        let differing = [
            ("version", header.version != first.version),
            ("scenario", header.scenario != first.scenario),
            ("profile", header.profile != first.profile),
            ("parameters", header.params != first.params),
            ("seed", header.seed != first.seed),
            ("shard count", header.shard.count != first.shard.count),
        ]
        .into_iter()
        .find(|(_, differs)| *differs);
        if let Some((field, _)) = differing {
            return Err(RunError::Merge(format!(
                "{} and {} come from different runs (their {field} differ)",
                first_path.display(),
                path.display()
            )));
        }
    }
    let count = first.shard.count;
    let mut seen = vec![false; count as usize];
    for (path, header, _) in shards {
        let slot = &mut seen[(header.shard.index - 1) as usize];
        if *slot {
            return Err(RunError::Merge(format!(
                "shard {} appears twice (again in {})",
                header.shard,
                path.display()
            )));
        }
        *slot = true;
    }
    let missing: Vec<String> = (1..=count)
        .filter(|k| !seen[(*k - 1) as usize])
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(RunError::Merge(format!(
            "missing shards {}",
            missing.join(", ")
        )));
    }
    Ok(())
}

struct MergeShards<'a> {
    shards: &'a [(PathBuf, ShardHeader, String)],
    out: &'a Path,
    started: Instant,
}

impl ExperimentVisitor for MergeShards<'_> {
    type Output = Result<RunOutcome, RunError>;

    fn visit<E: Experiment>(self, spec: ScenarioSpec) -> Self::Output {
        let header = &self.shards[0].1;
        let experiment = E::from_params(&header.params)?;
        let plan = plan_of(&experiment)?;
        let mut chunks = Vec::new();
        for (path, _, text) in self.shards {
            let file: ShardFile<E::Accumulator> = serde_json::from_str(text)
                .map_err(|e| RunError::Merge(format!("{} is damaged: {e}", path.display())))?;
            chunks.extend(file.chunks);
        }
        let cells = mc::merge_shards(&plan, chunks)?;
        let report = experiment.report(&cells)?;
        let context = ManifestContext {
            profile: header.profile.clone(),
            params: &header.params,
            seed: header.seed,
            threads: None,
            merged_shards: Some(header.shard.count),
            resumed: false,
            started: self.started,
        };
        let (written, findings) = write_outputs(self.out, &spec, &report, context)?;
        Ok(RunOutcome {
            scenario: spec.name,
            findings,
            written,
            resumed: false,
            samples: plan.chunks().iter().map(|c| c.replicates).sum(),
        })
    }
}
