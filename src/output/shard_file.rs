//! Shard files: the unmerged chunk accumulators of one shard, with everything `merge` needs
//! to check that the shards belong together and to rebuild the scenario.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::OutputError;
use crate::atomic_file::write_atomically;
use crate::mc::{Block, Shard};

/// Identifies a shard's run; every field must agree across the shards being merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardHeader {
    /// Format tag, `stuck-shard-1`.
    pub format: String,
    /// Tool version that wrote the shard.
    pub version: String,
    /// Scenario name.
    pub scenario: String,
    /// Profile the parameters started from.
    pub profile: String,
    /// Fully resolved parameters (as a TOML table).
    pub params: toml::Table,
    /// The seed.
    pub seed: u64,
    /// Which shard this is.
    pub shard: Shard,
}

/// A shard file: header plus the shard's blocks (a few per cell, see [`crate::mc::Block`]).
#[derive(Debug, Serialize, Deserialize)]
pub struct ShardFile<A> {
    /// Who wrote it and for which run.
    pub header: ShardHeader,
    /// The shard's finished work, reduced along the run's fixed tree.
    pub blocks: Vec<Block<A>>,
}

/// The format tag of shard files written by this version (2: blocks instead of one entry
/// per chunk).
pub const SHARD_FORMAT: &str = "stuck-shard-2";

/// `<scenario>.shard-K-of-N.json`.
pub fn shard_file_name(scenario: &str, shard: Shard) -> String {
    format!("{scenario}.shard-{}-of-{}.json", shard.index, shard.count)
}

#[derive(Deserialize)]
struct HeaderOnly {
    header: ShardHeader,
    #[serde(rename = "blocks")]
    _blocks: serde::de::IgnoredAny,
}

/// Reads a shard file's header without interpreting its blocks (their type depends on the
/// scenario), checking the format tag and the shard number.
pub fn read_shard_header(path: &Path) -> Result<(ShardHeader, String), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let parsed: HeaderOnly = serde_json::from_str(&text).map_err(|e| {
        let reason: String = e.to_string().chars().take(200).collect();
        format!("{} is not a stuck shard file: {reason}", path.display())
    })?;
    let shard = parsed.header.shard;
    if shard.index == 0 || shard.index > shard.count {
        return Err(format!(
            "{} is damaged: its shard number {}/{} is not K/N with 1 <= K <= N",
            path.display(),
            shard.index,
            shard.count
        ));
    }
    if parsed.header.format != SHARD_FORMAT {
        return Err(format!(
            "{} has shard format `{}`, this version reads `{SHARD_FORMAT}`",
            path.display(),
            parsed.header.format
        ));
    }
    Ok((parsed.header, text))
}

/// Writes `file` atomically as `<dir>/<scenario>.shard-K-of-N.json` and returns its path.
pub fn write_shard_file<A: Serialize>(
    dir: &Path,
    file: &ShardFile<A>,
) -> Result<PathBuf, OutputError> {
    let path = dir.join(shard_file_name(&file.header.scenario, file.header.shard));
    let bytes = serde_json::to_vec(file).map_err(|e| OutputError::at(&path, e))?;
    write_atomically(&path, &bytes).map_err(|e| OutputError::at(&path, e))?;
    Ok(path)
}

/// Parses the whole of a shard file whose header [`read_shard_header`] already checked;
/// the error is one line naming the file.
pub fn parse_shard_file<A: DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<ShardFile<A>, String> {
    serde_json::from_str(text).map_err(|e| {
        let reason: String = e.to_string().chars().take(200).collect();
        format!("{} is damaged: {reason}", path.display())
    })
}
