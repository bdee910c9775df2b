//! How a run's replicates are cut into chunks, and which chunks a shard owns.
//!
//! Nothing here is stored per chunk: a plan is one [`CellWork`] per grid cell, and a shard's
//! work is one contiguous range of chunks per cell ([`CellRange`]), so the memory of a run
//! does not depend on how many replicates it has.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A stable name of a grid cell, derived from the cell's own parameter values (never from its
/// position in the grid): the random streams of a cell depend on its key, so a cell run alone
/// (`--set` narrowing the grid to it) or with more replicates gives the same bytes as in the
/// full run.
///
/// ```
/// use stuck::mc::CellKey;
/// let a = CellKey::new("quadratic method=gd eta=0.1");
/// assert_eq!(a, CellKey::new("quadratic method=gd eta=0.1"));
/// assert_ne!(a, CellKey::new("quadratic method=gd eta=0.2"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey(pub u64);

impl CellKey {
    /// The key of a cell described by `description`: the FNV-1a hash of a canonical text of
    /// the cell's parameters, written by the scenario (part of the reproducibility contract:
    /// changing the text of a cell changes its numbers).
    pub fn new(description: &str) -> Self {
        CellKey(super::fnv1a(description))
    }
}

/// How many replicates a grid cell has, how many go into each of its chunks, and the cell's
/// key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellWork {
    /// Replicates of the cell.
    pub replicates: u64,
    /// Replicates per chunk (the last chunk may be short).
    pub chunk: u64,
    /// The cell's stable key (its streams derive from it).
    pub key: CellKey,
}

impl CellWork {
    /// The work of a cell whose key is derived from `key_text`, the canonical text of the
    /// cell's own parameter values (so its streams do not depend on the rest of the grid).
    ///
    /// ```
    /// use stuck::mc::{CellKey, CellWork};
    /// let work = CellWork::keyed("well d=1 tilt=0.0", 1000, 100);
    /// assert_eq!(work.key, CellKey::new("well d=1 tilt=0.0"));
    /// assert_eq!(work.chunks(), 10);
    /// ```
    pub fn keyed(key_text: &str, replicates: u64, chunk: u64) -> Self {
        CellWork {
            replicates,
            chunk,
            key: CellKey::new(key_text),
        }
    }

    /// Number of chunks, ⌈replicates / chunk⌉.
    pub fn chunks(&self) -> u64 {
        self.replicates.div_ceil(self.chunk)
    }

    /// Replicates in chunk `index` (the last chunk of a cell may be short).
    pub fn replicates_of_chunk(&self, index: u64) -> u64 {
        let start = index.saturating_mul(self.chunk);
        self.chunk.min(self.replicates.saturating_sub(start))
    }

    /// Replicates in the chunks `range`.
    pub fn replicates_of(&self, range: &Range<u64>) -> u64 {
        if range.is_empty() {
            return 0;
        }
        let start = range.start.saturating_mul(self.chunk);
        let end = range.end.saturating_mul(self.chunk).min(self.replicates);
        end.saturating_sub(start)
    }
}

/// A contiguous range of chunks of one grid cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellRange {
    /// Grid cell, in the scenario's grid order.
    pub cell: usize,
    /// Chunk indices within the cell.
    pub chunks: Range<u64>,
}

/// The replicates of each grid cell, cut into chunks of a fixed size per cell.
///
/// Chunk sizes are parameters of the scenario, never of the machine: chunk boundaries, and
/// therefore the random streams and the reduction tree, are the same on 1 thread or 1000.
/// Cells may use different sizes (a cheap sample and an expensive rare-event run differ by
/// orders of magnitude in cost).
///
/// ```
/// use stuck::mc::{CellKey, CellWork, ChunkPlan, Shard};
/// let plan = ChunkPlan::new(vec![
///     CellWork { replicates: 10, chunk: 4, key: CellKey::new("a") },
///     CellWork { replicates: 3, chunk: 4, key: CellKey::new("b") },
/// ]).unwrap();
/// assert_eq!(plan.total_chunks(), 4);
/// // Shard 1 of 2 owns the first half of every cell's chunks.
/// let ranges = plan.ranges(Some(Shard { index: 1, count: 2 }));
/// assert_eq!(ranges[0].chunks, 0..1);
/// assert_eq!(ranges[1].chunks, 0..0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkPlan {
    cells: Vec<CellWork>,
}

impl ChunkPlan {
    /// A plan; `None` when a chunk size is zero, a cell has no replicates, or two cells share
    /// a key (they would draw the same random numbers).
    pub fn new(cells: Vec<CellWork>) -> Option<Self> {
        let mut keys: Vec<CellKey> = cells.iter().map(|c| c.key).collect();
        keys.sort();
        let distinct = keys.windows(2).all(|w| w[0] != w[1]);
        (distinct && cells.iter().all(|c| c.chunk > 0 && c.replicates > 0))
            .then_some(ChunkPlan { cells })
    }

    /// Number of grid cells.
    pub fn cells(&self) -> usize {
        self.cells.len()
    }

    /// The work of one cell.
    pub fn cell(&self, cell: usize) -> CellWork {
        self.cells[cell]
    }

    /// Chunks in the whole run.
    pub fn total_chunks(&self) -> u64 {
        self.cells
            .iter()
            .fold(0u64, |sum, c| sum.saturating_add(c.chunks()))
    }

    /// The largest number of chunks of any cell: the most shards a run can be split into
    /// without a shard that has nothing to do.
    pub fn max_shards(&self) -> u64 {
        self.cells.iter().map(CellWork::chunks).max().unwrap_or(0)
    }

    /// The chunk range of every cell that `shard` owns (every chunk without a shard), in
    /// cell order. Shard `K` of `N` owns chunks `⌊(K−1)m/N⌋ .. ⌊Km/N⌋` of a cell with `m`
    /// chunks, so every shard gets the same share of cheap and of expensive cells.
    pub fn ranges(&self, shard: Option<Shard>) -> Vec<CellRange> {
        self.cells
            .iter()
            .enumerate()
            .map(|(cell, work)| {
                let m = work.chunks();
                let chunks = match shard {
                    None => 0..m,
                    Some(s) => s.share(m),
                };
                CellRange { cell, chunks }
            })
            .collect()
    }

    /// Replicates in the chunks that `shard` owns.
    pub fn replicates(&self, shard: Option<Shard>) -> u64 {
        self.replicates_in(&self.ranges(shard))
    }

    /// Replicates in the given chunk ranges.
    pub fn replicates_in(&self, ranges: &[CellRange]) -> u64 {
        ranges
            .iter()
            .map(|r| self.cells[r.cell].replicates_of(&r.chunks))
            .fold(0u64, u64::saturating_add)
    }
}

/// Shard `index` of `count` (1-based, written `K/N`): it owns the `K`-th of `N` nearly equal
/// contiguous slices of every cell's chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based shard number K.
    pub index: u32,
    /// Number of shards N.
    pub count: u32,
}

impl Shard {
    /// The slice `⌊(K−1)m/N⌋ .. ⌊Km/N⌋` of `0..m` this shard owns.
    pub fn share(&self, m: u64) -> Range<u64> {
        let at = |k: u32| ((u128::from(m) * u128::from(k)) / u128::from(self.count)) as u64;
        at(self.index - 1)..at(self.index)
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
        let error = || ShardParseError(text.chars().take(40).collect());
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
                .enumerate()
                .map(|(i, &replicates)| CellWork {
                    replicates,
                    chunk,
                    key: CellKey(i as u64),
                })
                .collect(),
        )
    }

    #[test]
    fn shards_partition_every_cell() {
        let plan = plan(&[7, 5, 9, 1], 2).unwrap();
        let all = plan.ranges(None);
        for count in 1..=6 {
            for (cell, whole) in all.iter().enumerate() {
                let mut next = 0;
                for index in 1..=count {
                    let part = &plan.ranges(Some(Shard { index, count }))[cell];
                    assert_eq!(part.chunks.start, next);
                    next = part.chunks.end;
                }
                assert_eq!(next, whole.chunks.end);
            }
            let total: u64 = (1..=count)
                .map(|index| plan.replicates(Some(Shard { index, count })))
                .sum();
            assert_eq!(total, 22);
        }
    }

    #[test]
    fn replicates_of_ranges() {
        let work = CellWork {
            replicates: 10,
            chunk: 4,
            key: CellKey(0),
        };
        assert_eq!(work.chunks(), 3);
        assert_eq!(work.replicates_of(&(0..3)), 10);
        assert_eq!(work.replicates_of(&(1..3)), 6);
        assert_eq!(work.replicates_of(&(2..2)), 0);
        assert_eq!(work.replicates_of_chunk(2), 2);
    }

    #[test]
    fn a_trillion_replicates_cost_nothing_to_plan() {
        let plan = plan(&[1_000_000_000_000, 5], 1).unwrap();
        assert_eq!(plan.total_chunks(), 1_000_000_000_005);
        let half = plan.ranges(Some(Shard { index: 2, count: 2 }));
        assert_eq!(half[0].chunks, 500_000_000_000..1_000_000_000_000);
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
    fn rejects_empty_plans_and_shared_keys() {
        assert!(plan(&[3], 0).is_none());
        assert!(plan(&[3, 0], 2).is_none());
        let twin = |replicates| CellWork {
            replicates,
            chunk: 1,
            key: CellKey::new("same"),
        };
        assert!(ChunkPlan::new(vec![twin(1), twin(2)]).is_none());
    }
}
