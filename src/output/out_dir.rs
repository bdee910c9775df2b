//! The output folder of a run: locked while the run writes to it, cleaned of what killed runs
//! left behind, and never silently mixed with the results of a different run.

use std::fs::{self, File, TryLockError};
use std::path::{Path, PathBuf};

use super::OutputError;
use crate::atomic_file::is_temporary;

/// The lock file inside an output folder.
const LOCK_FILE: &str = ".stuck.lock";
/// Where checkpoints live inside an output folder.
pub const CHECKPOINT_DIR: &str = ".stuck-checkpoints";

/// An output folder held by this process.
///
/// The lock is an advisory OS lock (`flock` on Unix, through `std::fs::File::try_lock`),
/// so it dies with the process: a run killed with SIGKILL never blocks the next one, while a
/// second run started on the same folder refuses at once. When the guard is dropped the lock
/// file is removed, and so is the folder itself if this guard created it and nothing was
/// written there.
#[derive(Debug)]
pub struct OutputDir {
    path: PathBuf,
    lock: Option<File>,
    created: bool,
}

impl OutputDir {
    /// Creates `path` if needed, checks that it accepts files, takes its lock (when `lock`:
    /// MPI ranks other than 0 share rank 0's folder and do not lock it), and removes the
    /// temporary files that an earlier, killed run left behind.
    pub fn open(path: &Path, lock: bool) -> Result<Self, OutputError> {
        let created = !path.exists();
        fs::create_dir_all(path).map_err(|e| OutputError::at(path, e))?;
        let mut dir = OutputDir {
            path: path.to_path_buf(),
            lock: None,
            created,
        };
        if lock {
            let lock_path = path.join(LOCK_FILE);
            let file = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .map_err(|e| OutputError::at(path, e))?;
            match file.try_lock() {
                Ok(()) => dir.lock = Some(file),
                Err(TryLockError::WouldBlock) => {
                    return Err(OutputError::at(
                        path,
                        "another stuck run is writing to this folder; wait for it or use another --out",
                    ));
                }
                Err(TryLockError::Error(e)) => return Err(OutputError::at(path, e)),
            }
            remove_temporary_files(path);
            remove_temporary_files(&path.join(CHECKPOINT_DIR));
        }
        Ok(dir)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if let Some(lock) = self.lock.take() {
            // Unlink while still holding the lock, so no other run can hold it meanwhile.
            let _ = fs::remove_file(self.path.join(LOCK_FILE));
            drop(lock);
        }
        if self.created {
            // Only succeeds when empty: a failed run leaves no empty folder behind.
            let _ = fs::remove_dir(&self.path);
        }
    }
}

/// Removes the temporary files (see [`is_temporary`]) directly inside `dir`: they belong to
/// runs that were killed mid-write, since the live run holds the folder's lock.
fn remove_temporary_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if is_temporary(&entry.file_name().to_string_lossy()) {
            let path = entry.path();
            if path.is_dir() {
                let _ = fs::remove_dir_all(&path);
            } else {
                let _ = fs::remove_file(&path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_the_lock_dies_with_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let first = OutputDir::open(&out, true).unwrap();
        let second = OutputDir::open(&out, true).unwrap_err();
        assert!(second.to_string().contains("another stuck run"), "{second}");
        drop(first);
        // Nothing was written: the folder this guard created is gone again.
        assert!(!out.exists());
        let again = OutputDir::open(&out, true).unwrap();
        drop(again);
    }

    #[test]
    fn stale_temporary_files_are_removed_and_results_kept() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        fs::write(out.join(".a.csv.stuck-tmp"), b"half").unwrap();
        fs::write(out.join(".a.csv.tmp-12345"), b"half").unwrap();
        fs::create_dir_all(out.join(CHECKPOINT_DIR)).unwrap();
        fs::write(out.join(CHECKPOINT_DIR).join(".x.json.stuck-tmp"), b"").unwrap();
        fs::write(out.join("a.csv"), b"kept").unwrap();
        let held = OutputDir::open(out, true).unwrap();
        let mut names: Vec<String> = fs::read_dir(out)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".stuck-checkpoints", ".stuck.lock", "a.csv"]);
        assert_eq!(fs::read_dir(out.join(CHECKPOINT_DIR)).unwrap().count(), 0);
        drop(held);
        assert!(!out.join(LOCK_FILE).exists());
    }
}
