//! Finished work on disk, so that an interrupted run resumes instead of starting over.

use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::EngineError;
use crate::atomic_file::write_atomically;

/// What a checkpoint file holds: the identity of the run it belongs to, how many of the
/// run's chunks (in merge order) are finished, and the engine's state after them.
#[derive(Serialize, Deserialize)]
struct Snapshot<S> {
    identity: String,
    finished_chunks: usize,
    state: S,
}

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

    /// The saved `(finished_chunks, state)`, or `None` when there is no checkpoint yet.
    pub(crate) fn load<S: DeserializeOwned>(&self) -> Result<Option<(usize, S)>, EngineError> {
        let text = match fs::read_to_string(self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(e.to_string())),
        };
        let snapshot: Snapshot<S> = serde_json::from_str(&text)
            .map_err(|e| self.error(format!("unreadable ({e}); delete it to start over")))?;
        if snapshot.identity != self.identity {
            return Err(self.error(
                "belongs to a different run (parameters, seed or version differ); delete it to start over".into(),
            ));
        }
        Ok(Some((snapshot.finished_chunks, snapshot.state)))
    }

    /// Replaces the checkpoint with the given state.
    pub(crate) fn save<S: Serialize>(
        &self,
        finished_chunks: usize,
        state: &S,
    ) -> Result<(), EngineError> {
        let snapshot = Snapshot {
            identity: self.identity.to_string(),
            finished_chunks,
            state,
        };
        let bytes = serde_json::to_vec(&snapshot).map_err(|e| self.error(e.to_string()))?;
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).map_err(|e| self.error(e.to_string()))?;
        }
        write_atomically(self.path, &bytes).map_err(|e| self.error(e.to_string()))
    }

    fn error(&self, message: String) -> EngineError {
        EngineError::Checkpoint {
            path: PathBuf::from(self.path),
            message,
        }
    }
}
