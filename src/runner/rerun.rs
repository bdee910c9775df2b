//! `stuck rerun`: a run reproduced from its manifest — the same scenario, profile, resolved
//! parameters and seed, so the same build writes the same CSV bytes.

use std::path::{Path, PathBuf};

use super::{RunError, RunRequest};
use crate::output::{ResultIdentity, TOOL_VERSION, git_commit};

/// The largest manifest read (4 MiB): a manifest is a few kilobytes of JSON.
const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// What to do with a manifest.
#[derive(Debug, Clone)]
pub struct RerunRequest {
    /// The manifest (`<out>/<scenario>.json`).
    pub manifest: PathBuf,
    /// Where the new run writes.
    pub out: PathBuf,
    /// Worker threads (they do not change the results).
    pub threads: usize,
    /// No progress bar.
    pub quiet: bool,
    /// Replace the results of a different run in `out`.
    pub force: bool,
}

/// The run a manifest describes, and a note when this build differs from the one that wrote
/// it (another version or commit may compute other numbers).
pub fn rerun_request(request: &RerunRequest) -> Result<(RunRequest, Option<String>), RunError> {
    let identity = read_identity(&request.manifest)?;
    let unreadable = |message: String| RunError::Manifest {
        file: request.manifest.display().to_string(),
        message,
    };
    let params: toml::Table = serde_json::from_value(identity.params.clone())
        .map_err(|e| unreadable(format!("its parameters are not a table: {e}")))?;
    let this_commit = git_commit().map(str::to_string);
    let note = (identity.version != TOOL_VERSION || identity.git_commit != this_commit).then(|| {
        format!(
            "the manifest was written by stuck {} (commit {}), this is {} (commit {}): the numbers may differ",
            identity.version,
            identity.git_commit.as_deref().unwrap_or("unknown"),
            TOOL_VERSION,
            this_commit.as_deref().unwrap_or("unknown"),
        )
    });
    let run = RunRequest {
        scenario: identity.scenario,
        profile: identity.profile,
        seed: identity.seed,
        threads: request.threads,
        out: request.out.clone(),
        sets: Vec::new(),
        config: None,
        params: Some(params),
        quiet: request.quiet,
        shard: None,
        mpi: false,
        force: request.force,
    };
    // Check the parameters before any note is printed: a bad manifest gets one error line.
    super::resolve_params(&super::find_spec(&run.scenario)?, &run)?;
    Ok((run, note))
}

/// The identity fields of the manifest at `path`.
fn read_identity(path: &Path) -> Result<ResultIdentity, RunError> {
    use std::io::Read;
    let unreadable = |message: String| RunError::Manifest {
        file: path.display().to_string(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let mut text = String::new();
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| unreadable(e.to_string()))?;
    if text.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(unreadable("too large for a manifest".into()));
    }
    serde_json::from_str(&text).map_err(|e| unreadable(format!("not a stuck manifest ({e})")))
}
