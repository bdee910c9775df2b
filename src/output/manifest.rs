//! The JSON manifest written beside every CSV: what was run, how, on what, with what verdicts.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{OutputError, manifest_path};
use crate::report::Finding;

/// The version of this tool, from Cargo.toml.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit the binary was built from, when it was built from a checkout.
pub fn git_commit() -> Option<&'static str> {
    Some(env!("STUCK_GIT_COMMIT")).filter(|c| !c.is_empty())
}

/// Whether the build's working tree had uncommitted changes to tracked files (`None` when
/// it was not built from a git checkout): a dirty build's commit does not describe its code.
pub fn git_dirty() -> Option<bool> {
    match env!("STUCK_GIT_DIRTY") {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The compiler that built the binary (`rustc --version`), when known.
pub fn rustc_version() -> Option<&'static str> {
    Some(env!("STUCK_RUSTC_VERSION")).filter(|v| !v.is_empty())
}

/// The current time as an RFC 3339 UTC timestamp, e.g. `2026-11-28T08:15:02Z`.
pub fn utc_now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// The CPU model from `/proc/cpuinfo` (Linux), for reading benchmark numbers in context.
pub fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// Everything needed to know what produced a CSV and to reproduce it.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// Always `stuck`.
    pub tool: &'static str,
    /// [`TOOL_VERSION`].
    pub version: &'static str,
    /// [`git_commit`].
    pub git_commit: Option<&'static str>,
    /// [`git_dirty`].
    pub git_dirty: Option<bool>,
    /// [`rustc_version`].
    pub rustc: Option<&'static str>,
    /// The command line that produced the run.
    pub command_line: Vec<String>,
    /// When the manifest was written ([`utc_now`]).
    pub finished_utc: String,
    /// Scenario name.
    pub scenario: String,
    /// Claim ids tested.
    pub claims: Vec<String>,
    /// Profile the parameters started from.
    pub profile: String,
    /// Fully resolved parameters.
    pub params: serde_json::Value,
    /// The seed.
    pub seed: u64,
    /// Worker threads (does not affect the CSV); absent for `stuck merge`.
    pub threads: Option<usize>,
    /// Number of shard files merged, for `stuck merge`.
    pub merged_shards: Option<u32>,
    /// Whether finished chunks were restored from a checkpoint.
    pub resumed: bool,
    /// Wall-clock seconds of this invocation.
    pub wall_seconds: f64,
    /// [`cpu_model`].
    pub cpu_model: Option<String>,
    /// Files written beside the manifest.
    pub outputs: Vec<String>,
    /// The statistical test behind the verdicts.
    pub test: String,
    /// Per-claim verdicts.
    pub findings: Vec<Finding>,
}

/// What decides a run's numbers, as a manifest records it: two runs with the same identity
/// write the same CSV bytes, so one may replace the other's results; any other run may not
/// without `--force`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultIdentity {
    /// Tool version.
    pub version: String,
    /// Git commit of the build, when known.
    pub git_commit: Option<String>,
    /// Scenario name.
    pub scenario: String,
    /// Profile the parameters started from.
    pub profile: String,
    /// Fully resolved parameters.
    pub params: serde_json::Value,
    /// The seed.
    pub seed: u64,
}

impl ResultIdentity {
    /// The identity of a run of this build (its version and commit) with these settings.
    pub fn of_this_build(scenario: &str, profile: &str, params: &toml::Table, seed: u64) -> Self {
        ResultIdentity {
            version: TOOL_VERSION.into(),
            git_commit: git_commit().map(str::to_string),
            scenario: scenario.to_string(),
            profile: profile.to_string(),
            params: serde_json::to_value(params).unwrap_or_default(),
            seed,
        }
    }

    /// Refuses (unless `force`) when `dir` already holds results of `self.scenario` written by
    /// a run of another identity; names the first field that differs.
    pub fn check_replaceable(&self, dir: &Path, force: bool) -> Result<(), OutputError> {
        let path = manifest_path(dir, &self.scenario);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(());
        };
        if force {
            return Ok(());
        }
        let hint = "use another --out, or --force to replace them";
        let existing: ResultIdentity = serde_json::from_str(&text).map_err(|_| {
            OutputError::at(&path, format!("holds results stuck cannot read; {hint}"))
        })?;
        let differing = [
            ("seed", existing.seed != self.seed),
            ("profile", existing.profile != self.profile),
            ("parameters", existing.params != self.params),
            ("tool version", existing.version != self.version),
            ("git commit", existing.git_commit != self.git_commit),
        ]
        .into_iter()
        .find(|(_, differs)| *differs);
        match differing {
            None => Ok(()),
            Some((field, _)) => Err(OutputError::at(
                dir,
                format!(
                    "it holds results of a different {} run (the {field} differs); {hint}",
                    self.scenario
                ),
            )),
        }
    }
}
