//! The user's data for an audit, used exactly as given: a CSV file of examples, or NumPy
//! `.npy` arrays of features and labels. No standardisation and no shuffling: the model was
//! trained on the data as they are.
//!
//! CSV: one example per line, the feature values then the integer class label (0-based); a
//! first line that is not all numbers is taken as a header and skipped. NumPy: a C-order
//! `(examples, features)` array of `float32` or `float64` and a `(examples,)` array of integer
//! labels (`int8` to `int64`, `uint8` to `uint64`), as `np.save` writes them.

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

/// Reads NumPy arrays: `features` of shape `(examples, features)` (float32 or float64, C
/// order) and `labels` of shape `(examples,)` (any integer type).
///
/// # Errors
/// One line naming the file and what is wrong: unreadable, not an `.npy` file, another dtype,
/// Fortran order, a shape that does not fit the model or the other file, a non-finite feature,
/// a label that is not a class.
pub fn load_npy(
    features_path: &Path,
    labels_path: &Path,
    features: usize,
    classes: usize,
) -> Result<Dataset, String> {
    let (shape, inputs) = read_npy(features_path, Kind::Real)?;
    let (label_shape, labels) = read_npy(labels_path, Kind::Integer)?;
    let name = |p: &Path| p.display().to_string();
    let examples = match shape[..] {
        [rows, columns] if columns == features as u64 => rows as usize,
        _ => {
            return Err(format!(
                "{}: shape {shape:?}; expected (examples, {features}) for a model with {features} inputs",
                name(features_path)
            ));
        }
    };
    if label_shape[..] != [examples as u64] {
        return Err(format!(
            "{}: shape {label_shape:?}; expected ({examples},), one label per row of {}",
            name(labels_path),
            name(features_path)
        ));
    }
    if examples == 0 {
        return Err(format!("{}: no examples", name(features_path)));
    }
    if let Some(k) = inputs.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "{}: example {}, feature {} is {}, not a finite number",
            name(features_path),
            k / features,
            k % features + 1,
            inputs[k]
        ));
    }
    let labels = labels
        .iter()
        .enumerate()
        .map(|(k, &y)| {
            if y >= 0.0 && y < classes as f64 {
                Ok(y as usize)
            } else {
                Err(format!(
                    "{}: label {y} of example {k} is not a class 0..{} (the model has {classes} outputs)",
                    name(labels_path),
                    classes - 1
                ))
            }
        })
        .collect::<Result<Vec<usize>, String>>()?;
    Ok(Dataset {
        inputs,
        labels,
        features,
        classes,
    })
}

/// What an array must hold.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Real,
    Integer,
}

/// The shape and the values (as f64; integers up to 2⁵³ exactly) of a C-order `.npy` file.
fn read_npy(path: &Path, kind: Kind) -> Result<(Vec<u64>, Vec<f64>), String> {
    let fail = |m: String| format!("{}: {m}", path.display());
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let npy = npyz::NpyFile::new(std::io::BufReader::new(file))
        .map_err(|e| fail(format!("not a NumPy .npy file ({e})")))?;
    if npy.order() != npyz::Order::C {
        return Err(fail(
            "Fortran order; save a C-order array (np.ascontiguousarray)".into(),
        ));
    }
    let shape = npy.shape().to_vec();
    let dtype = match npy.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => {
            return Err(fail(format!(
                "dtype {} is not a plain number type",
                other.descr()
            )));
        }
    };
    let bad = |m: std::io::Error| fail(format!("cannot read the values ({m})"));
    let values: Vec<f64> = match (kind, dtype.trim_start_matches(['<', '|', '='])) {
        (Kind::Real, "f8") => npy.into_vec::<f64>().map_err(bad)?,
        (Kind::Real, "f4") => npy
            .into_vec::<f32>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (Kind::Integer, "i8") => npy
            .into_vec::<i64>()
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f64)
            .collect(),
        (Kind::Integer, "i4") => npy
            .into_vec::<i32>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (Kind::Integer, "i2") => npy
            .into_vec::<i16>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (Kind::Integer, "i1") => npy
            .into_vec::<i8>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (Kind::Integer, "u8") => npy
            .into_vec::<u64>()
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f64)
            .collect(),
        (Kind::Integer, "u4") => npy
            .into_vec::<u32>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (Kind::Integer, "u2") => npy
            .into_vec::<u16>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (Kind::Integer, "u1") => npy
            .into_vec::<u8>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (Kind::Real, _) => {
            return Err(fail(format!(
                "dtype {dtype}; features must be float32 or float64 (little-endian)"
            )));
        }
        (Kind::Integer, _) => {
            return Err(fail(format!(
                "dtype {dtype}; labels must be integers (little-endian)"
            )));
        }
    };
    Ok((shape, values))
}
