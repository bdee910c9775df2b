//! `stuck report`: from output folders to one document per claim — `report.html` (figures
//! embedded, no JavaScript, opens offline), `report.md` (figures linked), `verdicts.csv` and
//! `verdicts.tex` (a booktabs table per claim).
//!
//! Everything comes from the manifests (`<scenario>.json`) the runs wrote: their findings,
//! provenance and output files. The claims themselves come from the project's `CLAIMS.md`,
//! compiled into the binary, so a claim without a run is reported as not yet tested.

mod collect;
mod render;

use std::path::{Path, PathBuf};

pub use collect::{Claim, RunRecord, claims, collect_runs};
pub use render::{html, latex, markdown, verdicts_csv};

use crate::atomic_file::write_atomically;

/// What went wrong while writing a report.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct ReportError(pub String);

/// Reads the manifests in `dirs` and writes `report.html`, `report.md`, `verdicts.csv` and
/// `verdicts.tex` to `out` (created if needed). Figures are linked from the Markdown by a path
/// relative to `out` and embedded in the HTML. Returns the files written.
pub fn write_report(dirs: &[PathBuf], out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let runs = collect_runs(dirs)?;
    if runs.is_empty() {
        return Err(ReportError(format!(
            "no stuck manifests (<scenario>.json) in {}; run a scenario first, e.g. `stuck all --profile quick`",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    std::fs::create_dir_all(out)
        .map_err(|e| ReportError(format!("cannot create {}: {e}", out.display())))?;
    let claims = claims();
    let documents = [
        ("report.html", html(&claims, &runs)?),
        ("report.md", markdown(&claims, &runs, out)),
        ("verdicts.csv", verdicts_csv(&runs)?),
        ("verdicts.tex", latex(&claims, &runs)),
    ];
    let mut written = Vec::new();
    for (name, text) in documents {
        let path = out.join(name);
        write_atomically(&path, text.as_bytes())
            .map_err(|e| ReportError(format!("cannot write {}: {e}", path.display())))?;
        written.push(path);
    }
    Ok(written)
}
