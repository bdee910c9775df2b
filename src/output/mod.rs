//! Writing results: tidy CSV tables and the JSON manifest (atomically), shard files, and the
//! terminal verdict table.

mod csv_table;
mod manifest;
mod out_dir;
mod plot;
mod shard_file;
mod terminal;

pub use csv_table::{format_real, table_to_csv};
pub use manifest::{
    Manifest, ResultIdentity, TOOL_VERSION, cpu_model, git_commit, git_dirty, rustc_version,
    utc_now,
};
pub use out_dir::{CHECKPOINT_DIR, OutputDir};
pub use plot::{Axes, Series, line_plot};
pub use shard_file::{
    SHARD_FORMAT, ShardFile, ShardHeader, parse_shard_file, read_shard_header, shard_file_name,
    write_shard_file,
};
pub use terminal::{findings_table, output_width};

use std::path::{Path, PathBuf};

use crate::atomic_file::write_atomically;
use crate::report::Report;

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

/// Writes a run's results into `dir` as one consistent set: every table (CSV), every plot
/// (PNG) and the manifest go to a staging folder first; then the old manifest is removed,
/// the new files are renamed into place, and the manifest comes last. A run killed at any
/// point, or a disk that fills up, never leaves new CSVs beside an old manifest: either the
/// old set stays whole, or there is no manifest until the new set is complete. `manifest`
/// receives the names of the files written beside it. Returns the paths, manifest last.
pub fn write_results(
    dir: &Path,
    scenario: &str,
    report: &Report,
    manifest: impl FnOnce(Vec<String>) -> Manifest,
) -> Result<Vec<PathBuf>, OutputError> {
    let staging = dir.join(format!(".{scenario}-staging.stuck-tmp"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir(&staging).map_err(|e| OutputError::at(&staging, e))?;
    let staged = stage(&staging, scenario, report, manifest);
    let result = staged.and_then(|names| {
        let old_manifest = manifest_path(dir, scenario);
        match std::fs::remove_file(&old_manifest) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(OutputError::at(&old_manifest, e));
            }
            _ => {}
        }
        names
            .iter()
            .map(|name| {
                let path = dir.join(name);
                std::fs::rename(staging.join(name), &path)
                    .map_err(|e| OutputError::at(&path, e))?;
                Ok(path)
            })
            .collect()
    });
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// Writes the tables, plots and manifest into `staging`; returns their names, manifest last.
fn stage(
    staging: &Path,
    scenario: &str,
    report: &Report,
    manifest: impl FnOnce(Vec<String>) -> Manifest,
) -> Result<Vec<String>, OutputError> {
    let mut names = Vec::new();
    for table in &report.tables {
        let path = table_path(staging, scenario, &table.name);
        let bytes = table_to_csv(table).map_err(|e| OutputError::at(&path, e))?;
        write_atomically(&path, &bytes).map_err(|e| OutputError::at(&path, e))?;
        names.push(file_name(&path));
    }
    for plot in &report.plots {
        let path = staging.join(format!("{scenario}-{}.png", plot.name));
        let series: Vec<Series> = plot
            .series
            .iter()
            .map(|(label, points)| Series {
                label: label.clone(),
                points: points.clone(),
                lines: plot.lines,
                intervals: plot.intervals_of(label),
                reference: plot.references.contains(label),
                look: plot.look_of(label),
            })
            .collect();
        line_plot(
            &path,
            &plot.title,
            &plot.x_label,
            &plot.y_label,
            &series,
            Axes {
                diagonal: false,
                log_x: plot.log_x,
                log_y: plot.log_y,
            },
        )?;
        names.push(file_name(&path));
        names.push(file_name(&path.with_extension("svg")));
    }
    let manifest = manifest(names.clone());
    let path = manifest_path(staging, &manifest.scenario);
    let mut bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| OutputError::at(&path, e))?;
    bytes.push(b'\n');
    write_atomically(&path, &bytes).map_err(|e| OutputError::at(&path, e))?;
    names.push(file_name(&path));
    Ok(names)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
