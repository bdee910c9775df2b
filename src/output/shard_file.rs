//! Shard files: the unmerged chunk accumulators of one shard, with everything `merge` needs
//! to check that the shards belong together and to rebuild the scenario.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::mc::{ChunkResult, Shard};

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

/// A shard file: header plus the chunk results, in chunk order.
#[derive(Debug, Serialize, Deserialize)]
pub struct ShardFile<A> {
    /// Who wrote it and for which run.
    pub header: ShardHeader,
    /// The shard's finished chunks.
    pub chunks: Vec<ChunkResult<A>>,
}

/// The format tag of shard files written by this version.
pub const SHARD_FORMAT: &str = "stuck-shard-1";

/// `<scenario>.shard-K-of-N.json`.
pub fn shard_file_name(scenario: &str, shard: Shard) -> String {
    format!("{scenario}.shard-{}-of-{}.json", shard.index, shard.count)
}

#[derive(Deserialize)]
struct HeaderOnly {
    header: ShardHeader,
    #[serde(rename = "chunks")]
    _chunks: serde::de::IgnoredAny,
}

/// Reads a shard file's header without interpreting its chunks (their type depends on the
/// scenario), checking the format tag.
pub fn read_shard_header(path: &Path) -> Result<(ShardHeader, String), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let parsed: HeaderOnly = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a stuck shard file: {e}", path.display()))?;
    if parsed.header.format != SHARD_FORMAT {
        return Err(format!(
            "{} has shard format `{}`, this version reads `{SHARD_FORMAT}`",
            path.display(),
            parsed.header.format
        ));
    }
    Ok((parsed.header, text))
}
