//! The fixed reduction tree over a cell's chunks, which makes partial results small.
//!
//! The accumulators of a cell's chunks `0..m` are combined pairwise over aligned dyadic
//! blocks: the block `[k·2ʲ, (k+1)·2ʲ)` is the merge of its two halves, and the cell's result
//! is the left fold, in chunk order, of the maximal complete blocks of `0..m` (the binary
//! digits of `m`). The tree depends on `m` alone, never on threads, shards or interruptions,
//! so every way of running the chunks gives the same bytes. Any contiguous range of chunks
//! reduces to at most about 2·log₂ m blocks, so a shard or a checkpoint stores O(log m)
//! accumulators per cell, however many replicates the run has. (Pairwise combination is also
//! the more accurate order for floating-point sums: Higham, *Accuracy and Stability of
//! Numerical Algorithms*, 2nd ed., §4.2.)

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::Accumulator;
use super::plan::{CellRange, ChunkPlan};

/// The merged accumulator of the aligned chunk block `first_chunk .. first_chunk + 2^level`
/// of one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block<A> {
    /// Grid cell.
    pub cell: usize,
    /// First chunk of the block (a multiple of `2^level`).
    pub first_chunk: u64,
    /// The block holds `2^level` chunks.
    pub level: u32,
    /// What its chunks produced, merged along the tree.
    pub accumulator: A,
}

impl<A> Block<A> {
    /// The chunk indices the block covers (`None` if its end overflows).
    pub fn chunks(&self) -> Option<Range<u64>> {
        let size = 1u64.checked_shl(self.level)?;
        Some(self.first_chunk..self.first_chunk.checked_add(size)?)
    }

    /// Whether `self` is the left and `right` the right half of one aligned block.
    fn is_left_sibling_of(&self, right: &Block<A>) -> bool {
        self.cell == right.cell
            && self.level == right.level
            && (self.first_chunk == 0 || self.first_chunk.trailing_zeros() > self.level)
            && self.chunks().map(|c| c.end) == Some(right.first_chunk)
    }
}

/// Pushes the next block (in cell, then chunk order) and merges every pair of siblings it
/// completes: a binary counter over each cell's chunks.
pub fn push_block<A: Accumulator>(stack: &mut Vec<Block<A>>, block: Block<A>) {
    stack.push(block);
    while let [.., left, right] = stack.as_slice() {
        if !left.is_left_sibling_of(right) {
            break;
        }
        let right = stack.pop().expect("two blocks");
        let left = stack.last_mut().expect("two blocks");
        left.accumulator.merge(right.accumulator);
        left.level += 1;
    }
}

/// Checks that `blocks` are complete aligned blocks of `plan` that cover exactly the chunk
/// ranges `expected` (one per cell, possibly empty), each holding as many replicates as its
/// chunks. The first problem found is described in one line.
pub fn check_blocks<A: Accumulator>(
    plan: &ChunkPlan,
    expected: &[CellRange],
    blocks: &[Block<A>],
) -> Result<(), String> {
    let mut order: Vec<&Block<A>> = blocks.iter().collect();
    order.sort_by_key(|b| (b.cell, b.first_chunk));
    let mut next = order.iter().peekable();
    for range in expected {
        let work = plan.cell(range.cell);
        let mut at = range.chunks.start;
        while let Some(block) = next.next_if(|b| b.cell == range.cell) {
            let chunks = block
                .chunks()
                .filter(|c| c.end <= work.chunks())
                .filter(|_| {
                    block.first_chunk == 0 || block.first_chunk.trailing_zeros() >= block.level
                })
                .ok_or_else(|| {
                    format!(
                        "cell {} has a block at chunk {} (level {}) that is not part of the run",
                        block.cell, block.first_chunk, block.level
                    )
                })?;
            if chunks.start != at {
                return Err(format!(
                    "cell {} expects chunk {at} next but finds chunk {}",
                    range.cell, chunks.start
                ));
            }
            let (held, owed) = (block.accumulator.replicates(), work.replicates_of(&chunks));
            if held != owed {
                return Err(format!(
                    "cell {} chunks {}..{} hold {held} replicates, the run gives them {owed}",
                    range.cell, chunks.start, chunks.end
                ));
            }
            at = chunks.end;
        }
        if at != range.chunks.end {
            return Err(format!(
                "cell {} has chunks up to {at}, expected up to {}",
                range.cell, range.chunks.end
            ));
        }
    }
    match next.next() {
        Some(extra) => Err(format!(
            "a block of cell {} is not part of this work",
            extra.cell
        )),
        None => Ok(()),
    }
}

/// Combines blocks that together cover every chunk of `plan` (check them first with
/// [`check_blocks`]) into one accumulator per cell, exactly as one uninterrupted run would.
pub fn fold_blocks<A: Accumulator>(plan: &ChunkPlan, mut blocks: Vec<Block<A>>) -> Vec<A> {
    blocks.sort_by_key(|b| (b.cell, b.first_chunk));
    let mut stack = Vec::new();
    for block in blocks {
        push_block(&mut stack, block);
    }
    let mut cells: Vec<Option<A>> = (0..plan.cells()).map(|_| None).collect();
    for block in stack {
        match &mut cells[block.cell] {
            Some(prefix) => prefix.merge(block.accumulator),
            slot @ None => *slot = Some(block.accumulator),
        }
    }
    cells
        .into_iter()
        .map(|c| c.expect("checked blocks cover every cell"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::{CellKey, CellWork, Shard};

    /// Records the exact shape of the merge tree, so two reductions can be compared.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Shape(String, u64);

    impl Accumulator for Shape {
        fn merge(&mut self, later: Self) {
            self.0 = format!("({}+{})", self.0, later.0);
            self.1 += later.1;
        }
        fn replicates(&self) -> u64 {
            self.1
        }
    }

    fn leaf(plan: &ChunkPlan, cell: usize, chunk: u64) -> Block<Shape> {
        Block {
            cell,
            first_chunk: chunk,
            level: 0,
            accumulator: Shape(
                chunk.to_string(),
                plan.cell(cell).replicates_of_chunk(chunk),
            ),
        }
    }

    fn reduce(plan: &ChunkPlan, shard: Option<Shard>) -> Vec<Block<Shape>> {
        let mut stack = Vec::new();
        for range in plan.ranges(shard) {
            for chunk in range.chunks {
                push_block(&mut stack, leaf(plan, range.cell, chunk));
            }
        }
        stack
    }

    fn plan() -> ChunkPlan {
        let cell = |replicates, chunk, key| CellWork {
            replicates,
            chunk,
            key: CellKey(key),
        };
        ChunkPlan::new(vec![cell(13, 2, 0), cell(1, 5, 1), cell(64, 4, 2)]).unwrap()
    }

    #[test]
    fn the_tree_is_pairwise_over_aligned_blocks() {
        let plan = plan();
        let whole = reduce(&plan, None);
        check_blocks(&plan, &plan.ranges(None), &whole).unwrap();
        let cells = fold_blocks(&plan, whole);
        assert_eq!(cells[0].0, "((((0+1)+(2+3))+(4+5))+6)");
        assert_eq!(cells[1].0, "0");
        assert_eq!(cells[0].1, 13);
    }

    #[test]
    fn any_shard_split_gives_the_same_tree_with_few_blocks() {
        let plan = plan();
        let reference = fold_blocks(&plan, reduce(&plan, None));
        for count in 1..=16 {
            let mut all = Vec::new();
            for index in 1..=count {
                let shard = Some(Shard { index, count });
                let blocks = reduce(&plan, shard);
                check_blocks(&plan, &plan.ranges(shard), &blocks).unwrap();
                assert!(blocks.len() <= 3 * 2 * 5, "{}", blocks.len());
                all.extend(blocks);
            }
            check_blocks(&plan, &plan.ranges(None), &all).unwrap();
            assert_eq!(fold_blocks(&plan, all), reference, "{count} shards");
        }
    }

    #[test]
    fn damaged_block_lists_are_refused() {
        let plan = plan();
        let whole = reduce(&plan, None);
        let ranges = plan.ranges(None);
        // A missing block.
        assert!(check_blocks(&plan, &ranges, &whole[1..]).is_err());
        // A repeated block.
        let mut twice = whole.clone();
        twice.push(whole[0].clone());
        assert!(check_blocks(&plan, &ranges, &twice).is_err());
        // An edited replicate count.
        let mut edited = whole.clone();
        edited[0].accumulator.1 += 1;
        let message = check_blocks(&plan, &ranges, &edited).unwrap_err();
        assert!(message.contains("replicates"), "{message}");
        // A block beyond the cell or misaligned.
        let mut beyond = whole.clone();
        beyond[0].level = 40;
        assert!(check_blocks(&plan, &ranges, &beyond).is_err());
        let mut unknown = whole;
        unknown[0].cell = 99;
        assert!(check_blocks(&plan, &ranges, &unknown).is_err());
    }
}
