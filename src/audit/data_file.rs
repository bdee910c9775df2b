//! The user's data for an audit: a CSV file of examples, used exactly as given.
//!
//! One example per line: the feature values, then the integer class label (0-based). A first
//! line that is not all numbers is taken as a header and skipped. No standardisation and no
//! shuffling: the model was trained on the data as they are.

use std::path::Path;

use crate::nets::Dataset;

/// Reads `path` as examples of `features` features and a label below `classes`.
///
/// ```
/// use stuck::audit::load_csv;
/// let path = std::env::temp_dir().join("stuck-doc-data.csv");
/// std::fs::write(&path, "x1,x2,label\n0.5,-1,0\n2,3.25,1\n").unwrap();
/// let data = load_csv(&path, 2, 2).unwrap();
/// assert_eq!((data.examples(), data.labels.clone()), (2, vec![0, 1]));
/// assert!(load_csv(&path, 3, 2).unwrap_err().contains("expected 3 features"));
/// ```
///
/// # Errors
/// One line naming the file, the line and what is wrong: unreadable, empty, a row of the wrong
/// length, a value that is not a finite number, a label that is not an integer class.
pub fn load_csv(path: &Path, features: usize, classes: usize) -> Result<Dataset, String> {
    let here = |line: u64, message: String| format!("{}:{line}: {message}", path.display());
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut inputs = Vec::new();
    let mut labels = Vec::new();
    for (k, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let line = record.position().map_or(k as u64 + 1, |p| p.line());
        let numbers: Vec<Option<f64>> = record.iter().map(|f| f.parse::<f64>().ok()).collect();
        if k == 0 && numbers.iter().any(Option::is_none) {
            continue; // a header
        }
        if record.len() != features + 1 {
            return Err(here(
                line,
                format!(
                    "{} columns; expected {features} features and a label (the model has {features} inputs)",
                    record.len()
                ),
            ));
        }
        for (column, value) in numbers[..features].iter().enumerate() {
            match value {
                Some(v) if v.is_finite() => inputs.push(*v),
                _ => {
                    return Err(here(
                        line,
                        format!(
                            "feature {} is `{}`, not a finite number",
                            column + 1,
                            &record[column]
                        ),
                    ));
                }
            }
        }
        let label = &record[features];
        match label.parse::<usize>() {
            Ok(y) if y < classes => labels.push(y),
            _ => {
                return Err(here(
                    line,
                    format!(
                        "label `{label}` is not a class 0..{} (the model has {classes} outputs)",
                        classes - 1
                    ),
                ));
            }
        }
    }
    if labels.is_empty() {
        return Err(format!("{}: no examples", path.display()));
    }
    Ok(Dataset {
        inputs,
        labels,
        features,
        classes,
    })
}
