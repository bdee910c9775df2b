//! How a run's replicates are cut into chunks, and which chunks a shard owns.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One unit of work: `replicates` samples of grid cell `cell`, the `index`-th chunk of that
/// cell. Its random stream depends only on `(seed, scenario, cell, index)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkId {
    /// Grid cell, in the scenario's grid order.
    pub cell: usize,
    /// Position of the chunk within its cell.
    pub index: u64,
    /// Number of replicates in the chunk (the last chunk of a cell may be short).
    pub replicates: u64,
}

/// How many replicates a grid cell has and how many go into each of its chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellWork {
    /// Replicates of the cell.
    pub replicates: u64,
    /// Replicates per chunk (the last chunk may be short).
    pub chunk: u64,
}

/// The replicates of each grid cell, cut into chunks of a fixed size per cell.
///
/// Chunk sizes are parameters of the scenario, never of the machine: chunk boundaries, and
/// therefore the random streams and the merge order, are the same on 1 thread or 1000.
/// Cells may use different sizes (a cheap sample and an expensive rare-event run differ by
/// orders of magnitude in cost).
///
/// ```
/// use stuck::mc::{CellWork, ChunkPlan};
/// let plan = ChunkPlan::new(vec![
///     CellWork { replicates: 10, chunk: 4 },
///     CellWork { replicates: 3, chunk: 4 },
/// ]).unwrap();
/// let sizes: Vec<u64> = plan.chunks().iter().map(|c| c.replicates).collect();
/// assert_eq!(sizes, [4, 4, 2, 3]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkPlan {
    cells: Vec<CellWork>,
}

impl ChunkPlan {
    /// A plan; `None` when a chunk size is zero or a cell has no replicates.
    pub fn new(cells: Vec<CellWork>) -> Option<Self> {
        cells
            .iter()
            .all(|c| c.chunk > 0 && c.replicates > 0)
            .then_some(ChunkPlan { cells })
    }

    /// Number of grid cells.
    pub fn cells(&self) -> usize {
        self.cells.len()
    }

    /// Every chunk, cell by cell, in merge order.
    pub fn chunks(&self) -> Vec<ChunkId> {
        let mut chunks = Vec::new();
        for (cell, work) in self.cells.iter().enumerate() {
            let total = work.replicates;
            let mut start = 0;
            let mut index = 0;
            while start < total {
                let replicates = work.chunk.min(total - start);
                chunks.push(ChunkId {
                    cell,
                    index,
                    replicates,
                });
                start += replicates;
                index += 1;
            }
        }
        chunks
    }

    /// The chunks a shard owns, in merge order.
    pub fn chunks_of(&self, shard: Option<Shard>) -> Vec<ChunkId> {
        let all = self.chunks();
        match shard {
            None => all,
            Some(shard) => all
                .into_iter()
                .enumerate()
                .filter(|(ordinal, _)| shard.owns(*ordinal))
                .map(|(_, chunk)| chunk)
                .collect(),
        }
    }
}

/// Shard `index` of `count` (1-based, written `K/N`): it owns the chunks whose ordinal in
/// merge order is congruent to `K − 1` modulo `N`, so every shard gets a similar mix of
/// cheap and expensive cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based shard number K.
    pub index: u32,
    /// Number of shards N.
    pub count: u32,
}

impl Shard {
    /// Whether the chunk at this merge-order ordinal belongs to the shard.
    pub fn owns(&self, ordinal: usize) -> bool {
        ordinal % self.count as usize == (self.index - 1) as usize
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// A `--shard` value that is not `K/N` with `1 ≤ K ≤ N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shard must be K/N with 1 <= K <= N (e.g. 2/8), got `{0}`")]
pub struct ShardParseError(String);

impl FromStr for Shard {
    type Err = ShardParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ShardParseError(text.to_string());
        let (k, n) = text.split_once('/').ok_or_else(error)?;
        let index: u32 = k.trim().parse().map_err(|_| error())?;
        let count: u32 = n.trim().parse().map_err(|_| error())?;
        if index == 0 || index > count {
            return Err(error());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(replicates: &[u64], chunk: u64) -> Option<ChunkPlan> {
        ChunkPlan::new(
            replicates
                .iter()
                .map(|&replicates| CellWork { replicates, chunk })
                .collect(),
        )
    }

    #[test]
    fn shards_partition_the_chunks() {
        let plan = plan(&[7, 5, 9], 2).unwrap();
        let all = plan.chunks();
        for count in 1..=5 {
            let mut union: Vec<ChunkId> = (1..=count)
                .flat_map(|index| plan.chunks_of(Some(Shard { index, count })))
                .collect();
            union.sort_by_key(|c| (c.cell, c.index));
            assert_eq!(union, all);
        }
    }

    #[test]
    fn parses_and_rejects_shards() {
        assert_eq!(
            "2/8".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 8 }
        );
        for bad in ["0/3", "4/3", "x/3", "3", "1/0", "-1/2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_empty_plans() {
        assert!(plan(&[3], 0).is_none());
        assert!(plan(&[3, 0], 2).is_none());
    }
}
