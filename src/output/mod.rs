//! Writing results: tidy CSV tables and the JSON manifest (atomically), shard files, and the
//! terminal verdict table.

mod csv_table;
mod manifest;
mod plot;
mod shard_file;
mod terminal;

pub use csv_table::{format_real, table_to_csv};
pub use manifest::{Manifest, TOOL_VERSION, cpu_model, git_commit};
pub use plot::{Series, line_plot};
pub use shard_file::{SHARD_FORMAT, ShardFile, ShardHeader, read_shard_header, shard_file_name};
pub use terminal::findings_table;

use std::path::{Path, PathBuf};

use crate::atomic_file::write_atomically;
use crate::scenarios::report::Report;

/// A failure to write results.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {message}", path.display())]
pub struct OutputError {
    /// The file or directory.
    pub path: PathBuf,
    /// The reason.
    pub message: String,
}

impl OutputError {
    fn at(path: &Path, error: impl std::fmt::Display) -> Self {
        OutputError {
            path: path.to_path_buf(),
            message: error.to_string(),
        }
    }
}

/// Makes sure `dir` exists and accepts new files, before any work is done.
pub fn prepare_output_dir(dir: &Path) -> Result<(), OutputError> {
    std::fs::create_dir_all(dir).map_err(|e| OutputError::at(dir, e))?;
    let probe = dir.join(format!(".stuck-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| OutputError::at(dir, e))?;
    std::fs::remove_file(&probe).map_err(|e| OutputError::at(dir, e))
}

/// The path of a report table: `<dir>/<scenario>.csv` or `<dir>/<scenario>-<name>.csv`.
pub fn table_path(dir: &Path, scenario: &str, table_name: &str) -> PathBuf {
    if table_name.is_empty() {
        dir.join(format!("{scenario}.csv"))
    } else {
        dir.join(format!("{scenario}-{table_name}.csv"))
    }
}

/// The path of the manifest, `<dir>/<scenario>.json`.
pub fn manifest_path(dir: &Path, scenario: &str) -> PathBuf {
    dir.join(format!("{scenario}.json"))
}

/// Writes every table of `report` as CSV (each atomically) and returns their paths.
pub fn write_tables(
    dir: &Path,
    scenario: &str,
    report: &Report,
) -> Result<Vec<PathBuf>, OutputError> {
    report
        .tables
        .iter()
        .map(|table| {
            let path = table_path(dir, scenario, &table.name);
            let bytes = table_to_csv(table).map_err(|e| OutputError::at(&path, e))?;
            write_atomically(&path, &bytes).map_err(|e| OutputError::at(&path, e))?;
            Ok(path)
        })
        .collect()
}

/// Draws every plot of `report` as `<dir>/<scenario>-<name>.png` and returns the paths. The
/// PNG is drawn to a temporary file and renamed, like every other output.
pub fn write_plots(
    dir: &Path,
    scenario: &str,
    report: &Report,
) -> Result<Vec<PathBuf>, OutputError> {
    report
        .plots
        .iter()
        .map(|plot| {
            let path = dir.join(format!("{scenario}-{}.png", plot.name));
            // The bitmap backend picks the format from the extension, so the temporary name ends in .png.
            let temporary = dir.join(format!(
                ".{scenario}-{}.tmp-{}.png",
                plot.name,
                std::process::id()
            ));
            let series: Vec<Series> = plot
                .series
                .iter()
                .map(|(label, points)| Series {
                    label: label.clone(),
                    points: points.clone(),
                })
                .collect();
            let drawn = line_plot(
                &temporary,
                &plot.title,
                &plot.x_label,
                &plot.y_label,
                &series,
                false,
            )
            .and_then(|()| {
                std::fs::rename(&temporary, &path).map_err(|e| OutputError::at(&path, e))
            });
            if drawn.is_err() {
                let _ = std::fs::remove_file(&temporary);
            }
            drawn.map(|()| path)
        })
        .collect()
}

/// Writes the manifest atomically, last, so that its presence means the CSVs are complete.
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<PathBuf, OutputError> {
    let path = manifest_path(dir, &manifest.scenario);
    let mut bytes = serde_json::to_vec_pretty(manifest).map_err(|e| OutputError::at(&path, e))?;
    bytes.push(b'\n');
    write_atomically(&path, &bytes).map_err(|e| OutputError::at(&path, e))?;
    Ok(path)
}
