//! The inputs of a report: the claims (from `CLAIMS.md`, compiled in) and the runs (from the
//! manifests in the output folders).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ReportError;
use crate::scenarios::SCENARIO_NAMES;

/// One claim of `CLAIMS.md`.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// `C1` … `C9`.
    pub id: String,
    /// The essay's statement, in the project's words.
    pub statement: String,
    /// What the suite measures for it.
    pub measures: String,
}

/// The claims C1–C9, parsed from the table rows `| C<k> | statement | measures | … |` of the
/// project's `CLAIMS.md`.
///
/// ```
/// let claims = stuck::publish::claims();
/// assert_eq!(claims.len(), 9);
/// assert_eq!(claims[2].id, "C3");
/// ```
pub fn claims() -> Vec<Claim> {
    include_str!("../../CLAIMS.md")
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            // A row splits as ["", id, statement, measures, scenario, status, ""].
            let id = cells.get(1)?;
            (cells.len() >= 5 && id.starts_with('C') && id[1..].parse::<u32>().is_ok()).then(|| {
                Claim {
                    id: id.to_string(),
                    statement: cells[2].to_string(),
                    measures: cells[3].to_string(),
                }
            })
        })
        .collect()
}

/// A finding as a manifest records it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordedFinding {
    /// Claim id.
    pub claim: String,
    /// What it is about.
    pub subject: String,
    /// The article's prediction.
    pub article: String,
    /// The best known theory.
    pub theory: String,
    /// The measurement with its interval.
    pub measured: String,
    /// The verdict.
    pub verdict: String,
    /// The test behind it.
    pub test: String,
}

/// One run, from its manifest.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RunRecord {
    /// The folder the manifest was read from (not in the manifest).
    #[serde(skip)]
    pub dir: PathBuf,
    /// Always `stuck`.
    pub tool: String,
    /// Tool version.
    pub version: String,
    /// Commit of the build, when known.
    pub git_commit: Option<String>,
    /// Whether the build's tree had uncommitted changes (absent in older manifests).
    #[serde(default)]
    pub git_dirty: Option<bool>,
    /// When the manifest was written, RFC 3339 UTC (absent in older manifests).
    #[serde(default)]
    pub finished_utc: Option<String>,
    /// Scenario name.
    pub scenario: String,
    /// Profile.
    pub profile: String,
    /// Seed.
    pub seed: u64,
    /// Threads, absent for merged shards.
    pub threads: Option<usize>,
    /// Whether the run resumed from a checkpoint (its wall time is then the last segment's).
    pub resumed: bool,
    /// Wall-clock seconds of the invocation that wrote the manifest.
    pub wall_seconds: f64,
    /// CPU model.
    pub cpu_model: Option<String>,
    /// Files written beside the manifest.
    pub outputs: Vec<String>,
    /// The verdicts.
    pub findings: Vec<RecordedFinding>,
}

impl RunRecord {
    /// The PNG figures of the run that exist on disk.
    pub fn figures(&self) -> Vec<PathBuf> {
        self.outputs
            .iter()
            .filter(|o| o.ends_with(".png"))
            .map(|o| self.dir.join(o))
            .filter(|p| p.is_file())
            .collect()
    }
}

/// Every run manifest in `dirs` (files `<scenario>.json` whose `tool` is `stuck` and whose
/// scenario is registered), in the suite's scenario order, then folder order. A folder that
/// cannot be read is an error; other JSON files (e.g. `audit.json`) are skipped.
pub fn collect_runs(dirs: &[PathBuf]) -> Result<Vec<RunRecord>, ReportError> {
    let mut runs = Vec::new();
    for (order, dir) in dirs.iter().enumerate() {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| ReportError(format!("cannot read {}: {e}", dir.display())))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for path in paths {
            if let Some(run) = read_manifest(&path, dir) {
                let rank = SCENARIO_NAMES
                    .iter()
                    .position(|s| *s == run.scenario)
                    .unwrap_or(usize::MAX);
                runs.push((rank, order, run));
            }
        }
    }
    runs.sort_by_key(|(rank, order, _)| (*rank, *order));
    Ok(runs.into_iter().map(|(_, _, run)| run).collect())
}

fn read_manifest(path: &Path, dir: &Path) -> Option<RunRecord> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut run: RunRecord = serde_json::from_str(&text).ok()?;
    let named_after_scenario = path.file_stem().is_some_and(|s| *s == *run.scenario);
    if run.tool != "stuck" || !named_after_scenario || !SCENARIO_NAMES.contains(&&*run.scenario) {
        return None;
    }
    run.dir = dir.to_path_buf();
    Some(run)
}
