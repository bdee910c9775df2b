//! The JSON manifest written beside every CSV: what was run, how, on what, with what verdicts.

use serde::Serialize;

use crate::scenarios::report::Finding;

/// The version of this tool, from Cargo.toml.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit the binary was built from, when it was built from a checkout.
pub fn git_commit() -> Option<&'static str> {
    Some(env!("STUCK_GIT_COMMIT")).filter(|c| !c.is_empty())
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
    /// `K/N` for a shard run, absent otherwise.
    pub shard: Option<String>,
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
