//! `stuck merge`: combines the shard files of one run into the CSV and manifest a single
//! machine would have written, byte for byte.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{
    ManifestContext, RunError, RunOutcome, check_shard_count, find_spec, merge_and_report, plan_of,
};
use crate::mc;
use crate::output::{
    self, OutputDir, ResultIdentity, ShardFile, ShardHeader, TOOL_VERSION, read_shard_header,
};
use crate::scenarios::spec::ScenarioSpec;
use crate::scenarios::{Experiment, ExperimentVisitor, dispatch};

/// At most this many shard names are listed in one error line.
const LISTED: usize = 8;

/// Merges the shard files found in `inputs` (directories are searched for
/// `*.shard-K-of-N.json`; files are taken as given) and writes the outputs to `out`;
/// results of a different run already in `out` are replaced only when `force`.
pub fn merge(inputs: &[PathBuf], out: &Path, force: bool) -> Result<RunOutcome, RunError> {
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
    let scenario = spec.name.clone();
    dispatch(
        spec,
        MergeShards {
            shards: &shards,
            out,
            force,
            started,
        },
    )
    .ok_or_else(|| RunError::Internal(format!("scenario {scenario} is not registered")))?
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
                if name.contains(".shard-") && name.ends_with(".json") && !name.starts_with('.') {
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
    let mut seen = BTreeSet::new();
    for (path, header, _) in shards {
        if !seen.insert(header.shard.index) {
            return Err(RunError::Merge(format!(
                "shard {} appears twice (again in {})",
                header.shard,
                path.display()
            )));
        }
    }
    let missing = u64::from(count) - seen.len() as u64;
    if missing > 0 {
        let listed: Vec<String> = (1..=count)
            .filter(|k| !seen.contains(k))
            .take(LISTED)
            .map(|k| format!("{k}/{count}"))
            .collect();
        let more = if missing > LISTED as u64 {
            format!(", … ({missing} missing in all)")
        } else {
            String::new()
        };
        return Err(RunError::Merge(format!(
            "missing shards {}{more}",
            listed.join(", ")
        )));
    }
    Ok(())
}

struct MergeShards<'a> {
    shards: &'a [(PathBuf, ShardHeader, String)],
    out: &'a Path,
    force: bool,
    started: Instant,
}

impl ExperimentVisitor for MergeShards<'_> {
    type Output = Result<RunOutcome, RunError>;

    fn visit<E: Experiment>(self, spec: ScenarioSpec) -> Self::Output {
        let header = &self.shards[0].1;
        let experiment = E::from_params(&header.params)?;
        let plan = plan_of(&experiment)?;
        check_shard_count(&plan, Some(header.shard)).map_err(|_| {
            RunError::Merge(format!(
                "the shards say the run has {} shards, but it has at most {}; the files are damaged",
                header.shard.count,
                plan.max_shards()
            ))
        })?;
        let mut blocks = Vec::new();
        for (path, header, text) in self.shards {
            let file: ShardFile<E::Accumulator> =
                output::parse_shard_file(path, text).map_err(RunError::Merge)?;
            mc::check_shard(&plan, header.shard, &file.blocks).map_err(|e| {
                RunError::Merge(format!("{} does not match its run: {e}", path.display()))
            })?;
            blocks.extend(file.blocks);
        }
        let identity =
            ResultIdentity::of_this_build(&spec.name, &header.profile, &header.params, header.seed);
        let out = OutputDir::open(self.out, true)?;
        identity.check_replaceable(out.path(), self.force)?;
        let context = ManifestContext {
            identity: &identity,
            claims: &spec.claims,
            test: &spec.test,
            threads: None,
            merged_shards: Some(header.shard.count),
            resumed: false,
            started: self.started,
        };
        let (written, findings) =
            merge_and_report(&experiment, &plan, blocks, out.path(), context)?;
        Ok(RunOutcome {
            scenario: spec.name,
            findings,
            written,
            resumed: false,
            samples: plan.replicates(None),
        })
    }
}
