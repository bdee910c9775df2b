//! Whole-file writes that are never seen half done.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The marker in the name of every temporary file `stuck` writes.
const TEMPORARY_MARK: &str = ".stuck-tmp";

/// Fault injection for the tests: when this environment variable is set and the file name
/// contains its value, [`write_atomically`] writes half the bytes to the temporary file and
/// then stalls for a minute, so a test can kill the process in the middle of a write.
pub const STALL_WRITE_VARIABLE: &str = "STUCK_FAULT_STALL_WRITE";

/// The temporary file beside `path` that a write of `path` goes through:
/// `.<name>.stuck-tmp<extension>` (the extension is kept for writers, such as the PNG
/// encoder, that choose the format by it). The name is fixed, not per process, so the next
/// run on the folder finds and removes what a killed run left (see [`is_temporary`]); the
/// folder lock keeps two runs from writing the same file.
pub fn temporary_path(path: &Path) -> io::Result<PathBuf> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?
        .to_string_lossy();
    let extension = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    Ok(dir.join(format!(".{file_name}{TEMPORARY_MARK}{extension}")))
}

/// Whether a directory entry is a temporary file of `stuck`: one of [`temporary_path`], a
/// staging folder, or the `.<name>.tmp-<pid>` files of versions before 0.2.
pub fn is_temporary(name: &str) -> bool {
    let legacy = name.rsplit_once(".tmp-").is_some_and(|(_, tail)| {
        let digits = tail.split('.').next().unwrap_or("");
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    });
    name.starts_with('.') && (name.contains(TEMPORARY_MARK) || legacy)
}

/// Writes `bytes` to `path` atomically: the data go to a temporary file in the same
/// directory, are flushed to disk, and the temporary file is renamed over `path`
/// (rename is atomic on POSIX file systems). A reader, or a run killed at any instant,
/// sees either the old file or the complete new one, never a prefix.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = temporary_path(path)?;
    let result = (|| {
        let mut file = fs::File::create(&temp)?;
        if stall_requested(path) {
            file.write_all(&bytes[..bytes.len() / 2])?;
            file.sync_all()?;
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        // Best effort: a temp file we could not finish must not linger.
        let _ = fs::remove_file(&temp);
    }
    result
}

fn stall_requested(path: &Path) -> bool {
    std::env::var(STALL_WRITE_VARIABLE)
        .is_ok_and(|needle| !needle.is_empty() && path.to_string_lossy().contains(needle.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn fails_cleanly_in_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("a.csv");
        assert!(write_atomically(&path, b"x").is_err());
    }

    #[test]
    fn temporary_names_are_recognised() {
        let temp = temporary_path(Path::new("out/plot.png")).unwrap();
        assert_eq!(temp, Path::new("out/.plot.png.stuck-tmp.png"));
        assert!(is_temporary(".plot.png.stuck-tmp.png"));
        assert!(is_temporary(".a.csv.tmp-4242"));
        assert!(is_temporary(".stuck-staging.stuck-tmp"));
        for kept in [
            "a.csv",
            ".stuck.lock",
            ".stuck-checkpoints",
            ".a.tmp-x",
            "x.tmp-12",
        ] {
            assert!(!is_temporary(kept), "{kept}");
        }
    }
}
