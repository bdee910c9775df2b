//! Finished work on disk, so that an interrupted run resumes instead of starting over.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::tree::Block;
use super::{Accumulator, EngineError};
use crate::atomic_file::write_atomically;

/// What a checkpoint file holds: the identity of the run it belongs to, how many of the
/// run's chunks (in work order) are finished, and their blocks (O(log chunks) per cell).
#[derive(Serialize, Deserialize)]
struct Snapshot<A> {
    identity: String,
    finished_chunks: u64,
    blocks: Vec<Block<A>>,
}

/// What a checkpoint restores: the number of finished chunks and their blocks.
pub(crate) type Saved<A> = (u64, Vec<Block<A>>);

/// A checkpoint file of one run. It is replaced atomically, so a run killed at any instant
/// (even SIGKILL) leaves either the previous snapshot or the new one.
pub(crate) struct Checkpoint<'a> {
    path: &'a Path,
    identity: &'a str,
}

impl<'a> Checkpoint<'a> {
    pub(crate) fn new(path: &'a Path, identity: &'a str) -> Self {
        Checkpoint { path, identity }
    }

    /// The saved `(finished_chunks, blocks)`, or `None` when there is no checkpoint yet.
    /// The caller checks the blocks against the plan.
    pub(crate) fn load<A: Accumulator>(&self) -> Result<Option<Saved<A>>, EngineError> {
        let text = match fs::read_to_string(self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(e.to_string())),
        };
        let snapshot: Snapshot<A> = serde_json::from_str(&text)
            .map_err(|e| self.damaged(&format!("unreadable ({})", first_line(&e.to_string()))))?;
        if snapshot.identity != self.identity {
            return Err(self.error(
                "belongs to a different run (parameters, seed or version differ); delete it to start over".into(),
            ));
        }
        Ok(Some((snapshot.finished_chunks, snapshot.blocks)))
    }

    /// Replaces the checkpoint with the given state.
    pub(crate) fn save<A: Accumulator>(
        &self,
        finished_chunks: u64,
        blocks: &[Block<A>],
    ) -> Result<(), EngineError> {
        #[derive(Serialize)]
        struct SnapshotRef<'s, A> {
            identity: &'s str,
            finished_chunks: u64,
            blocks: &'s [Block<A>],
        }
        let snapshot = SnapshotRef {
            identity: self.identity,
            finished_chunks,
            blocks,
        };
        let bytes = serde_json::to_vec(&snapshot).map_err(|e| self.error(e.to_string()))?;
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).map_err(|e| self.error(e.to_string()))?;
        }
        write_atomically(self.path, &bytes).map_err(|e| self.error(e.to_string()))
    }

    /// A checkpoint that does not match its run.
    pub(crate) fn damaged(&self, why: &str) -> EngineError {
        self.error(format!("is damaged: {why}; delete it to start over"))
    }

    fn error(&self, message: String) -> EngineError {
        EngineError::Checkpoint {
            path: PathBuf::from(self.path),
            message,
        }
    }
}

/// The first line of a message, at most 200 characters: errors stay one readable line.
fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}
