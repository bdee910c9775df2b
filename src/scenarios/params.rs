//! Scenario parameters: a profile's table, overridden by a config file and `--set`, read into
//! typed values with range checks that name the key and the allowed range.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::ops::RangeInclusive;
use std::path::Path;

use toml::{Table, Value};

use crate::choice::Choice;

/// A parameter problem, phrased for the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    /// A key the scenario does not have.
    #[error("unknown parameter `{key}` for {scenario}; known parameters: {known}")]
    UnknownKey {
        /// The offending key.
        key: String,
        /// The scenario.
        scenario: String,
        /// Comma-separated list of valid keys.
        known: String,
    },
    /// A value of the wrong type or outside its range.
    #[error("parameter `{key}` {expected}, got {got}")]
    Invalid {
        /// The offending key.
        key: String,
        /// What is allowed, e.g. "must be an integer in 1..=1000000".
        expected: String,
        /// What was given.
        got: String,
    },
    /// A `--set` that is not `key=value`.
    #[error("--set expects key=value, got `{0}`")]
    MalformedAssignment(String),
    /// A config file that is not valid TOML.
    #[error("malformed TOML in {file} at line {line}: {message}")]
    MalformedToml {
        /// The file.
        file: String,
        /// 1-based line of the error.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A config file that cannot be read.
    #[error("cannot read config file {file}: {message}")]
    Unreadable {
        /// The file.
        file: String,
        /// The reason.
        message: String,
    },
    /// A profile the scenario does not define.
    #[error("unknown profile `{profile}` for {scenario}; profiles: {known}")]
    UnknownProfile {
        /// The requested profile.
        profile: String,
        /// The scenario.
        scenario: String,
        /// Defined profiles.
        known: String,
    },
}

/// Parses TOML text, turning a syntax error into a one-line [`ParamError`] with its line.
pub fn parse_toml(text: &str, file: &str) -> Result<Table, ParamError> {
    text.parse::<Table>().map_err(|e| {
        let line = e.span().map_or(1, |span| {
            text[..span.start.min(text.len())].lines().count().max(1)
        });
        ParamError::MalformedToml {
            file: file.to_string(),
            line,
            message: e.message().trim().replace('\n', " "),
        }
    })
}

/// Reads a TOML config file of parameter overrides.
pub fn read_config(path: &Path) -> Result<Table, ParamError> {
    use std::io::Read;
    let file = path.display().to_string();
    let unreadable = |message: String| ParamError::Unreadable {
        file: file.clone(),
        message,
    };
    let handle = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let metadata = handle.metadata().map_err(|e| unreadable(e.to_string()))?;
    if !metadata.is_file() {
        return Err(unreadable("not a regular file".into()));
    }
    // Read one byte more than the limit, so a longer file is detected without reading it all.
    let mut bytes = Vec::new();
    handle
        .take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(e.to_string()))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(unreadable(format!(
            "larger than {} KiB; a parameter file is a few lines of TOML",
            MAX_CONFIG_BYTES / 1024
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8 text".into()))?;
    parse_toml(&text, &file)
}

/// The largest config file read (1 MiB): far beyond any real parameter file, small enough
/// that a wrong path (a log, a device) fails at once.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Splits `key=value` and parses the value as a TOML value (`3`, `0.5`, `[1, 2]`, `nan`,
/// `"goe"`); a bare word that is not TOML is taken as a string, so `--set ensembles=goe` and
/// `--set ensembles='["goe"]'` both work.
pub fn parse_assignment(text: &str) -> Result<(String, Value), ParamError> {
    let (key, raw) = text
        .split_once('=')
        .filter(|(k, _)| !k.trim().is_empty())
        .ok_or_else(|| ParamError::MalformedAssignment(text.to_string()))?;
    let raw = raw.trim();
    let value = format!("value = {raw}")
        .parse::<Table>()
        .ok()
        .and_then(|mut t| t.remove("value"))
        .unwrap_or_else(|| Value::String(raw.to_string()));
    Ok((key.trim().to_string(), value))
}

/// Lays `overrides` over `base`: every key must exist in `base` and keep its type (an integer
/// may stand where a float is expected; a single value where a list is expected becomes a
/// one-element list).
pub fn apply_overrides(
    scenario: &str,
    base: &mut Table,
    overrides: impl IntoIterator<Item = (String, Value)>,
) -> Result<(), ParamError> {
    for (key, value) in overrides {
        let Some(current) = base.get(&key) else {
            return Err(ParamError::UnknownKey {
                key,
                scenario: scenario.to_string(),
                known: base.keys().cloned().collect::<Vec<_>>().join(", "),
            });
        };
        let coerced =
            coerce_like(current, value).map_err(|(expected, got)| ParamError::Invalid {
                key: key.clone(),
                expected,
                got,
            })?;
        base.insert(key, coerced);
    }
    Ok(())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "true or false",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

fn describe(value: &Value) -> String {
    let text = match value {
        Value::String(s) => format!("\"{s}\""),
        Value::Float(x) if x.is_finite() => readable(*x),
        other => other.to_string(),
    };
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

/// A number as a person reads it in a message: plain in [1e-4, 1e15), scientific outside
/// (so 1e300 is `1e300`, not 301 digits).
fn readable(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-4..1e15).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// Converts `value` to the type of `template`, or explains the mismatch.
fn coerce_like(template: &Value, value: Value) -> Result<Value, (String, String)> {
    match (template, value) {
        (Value::Float(_), Value::Integer(i)) => Ok(Value::Float(i as f64)),
        (Value::Array(items), Value::Array(values)) => match items.first() {
            None => Ok(Value::Array(values)),
            Some(item) => values
                .into_iter()
                .map(|v| coerce_like(item, v))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
                .map_err(|(expected, got)| {
                    (
                        format!(
                            "must be a list whose items are {}",
                            expected.trim_start_matches("must be ")
                        ),
                        got,
                    )
                }),
        },
        (Value::Array(items), single) => {
            coerce_like(&Value::Array(items.clone()), Value::Array(vec![single]))
        }
        (t, v) if std::mem::discriminant(t) == std::mem::discriminant(&v) => Ok(v),
        (t, v) => Err((format!("must be {}", kind(t)), describe(&v))),
    }
}

thread_local! {
    /// The rules read by [`ParamReader`]s on this thread while [`allowed_values`] runs.
    static RULES: std::cell::RefCell<Option<Vec<(String, String)>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `read` (a scenario's `from_params`) and returns its result with every parameter it
/// read and the rule that parameter must obey, in the order read — the same rules that
/// validate `--set` and config files, so `stuck params` cannot drift from them.
///
/// ```
/// use stuck::scenarios::params::{ParamReader, allowed_values};
/// let table: toml::Table = toml::from_str("replicates = 10").unwrap();
/// let (value, rules) = allowed_values(|| ParamReader::new(&table).integer("replicates", 1..=100));
/// assert_eq!(value.unwrap(), 10);
/// assert_eq!(rules, vec![("replicates".to_string(), "an integer in 1..=100".to_string())]);
/// ```
pub fn allowed_values<T>(read: impl FnOnce() -> T) -> (T, Vec<(String, String)>) {
    RULES.with(|r| *r.borrow_mut() = Some(Vec::new()));
    let value = read();
    let rules = RULES.with(|r| r.borrow_mut().take()).unwrap_or_default();
    (value, rules)
}

/// Records the rule of `key` if [`allowed_values`] is listening.
fn note(key: &str, rule: impl FnOnce() -> String) {
    RULES.with(|r| {
        if let Some(rules) = r.borrow_mut().as_mut() {
            rules.push((key.to_string(), rule()));
        }
    });
}

/// `[a, b]` or `(a, b)`.
fn interval(range: &RangeInclusive<f64>, open: bool) -> String {
    let (l, r) = if open { ("(", ")") } else { ("[", "]") };
    format!(
        "{l}{}, {}{r}",
        readable(*range.start()),
        readable(*range.end())
    )
}

/// Typed, range-checked access to a resolved parameter table. Every key must be read
/// exactly once by the scenario; [`ParamReader::finish`] reports keys nobody read, which
/// catches a profile and its scenario drifting apart.
pub struct ParamReader<'a> {
    table: &'a Table,
    read: BTreeSet<String>,
}

impl<'a> ParamReader<'a> {
    /// A reader over a resolved table.
    pub fn new(table: &'a Table) -> Self {
        ParamReader {
            table,
            read: BTreeSet::new(),
        }
    }

    fn value(&mut self, key: &str) -> Result<&'a Value, ParamError> {
        self.read.insert(key.to_string());
        self.table.get(key).ok_or_else(|| ParamError::Invalid {
            key: key.to_string(),
            expected: "is required".into(),
            got: "nothing".into(),
        })
    }

    /// An integer in `range`.
    pub fn integer(&mut self, key: &str, range: RangeInclusive<u64>) -> Result<u64, ParamError> {
        note(key, || {
            format!("an integer in {}..={}", range.start(), range.end())
        });
        let value = self.value(key)?;
        integer_in(key, value, &range, "must be an integer")
    }

    /// A finite number in `range`; `open` excludes the end points.
    pub fn number(
        &mut self,
        key: &str,
        range: RangeInclusive<f64>,
        open: bool,
    ) -> Result<f64, ParamError> {
        note(key, || {
            format!("a finite number in {}", interval(&range, open))
        });
        let value = self.value(key)?;
        number_in(key, value, &range, open)
    }

    /// A non-empty list of integers, each in `range`, without repeats.
    pub fn integer_list(
        &mut self,
        key: &str,
        range: RangeInclusive<u64>,
    ) -> Result<Vec<u64>, ParamError> {
        note(key, || {
            format!(
                "a non-empty list of integers in {}..={}, no repeats",
                range.start(),
                range.end()
            )
        });
        let items = self.list(key)?;
        let values = items
            .iter()
            .map(|v| integer_in(key, v, &range, "must be a list of integers"))
            .collect::<Result<Vec<_>, _>>()?;
        no_repeats(key, &values)?;
        Ok(values)
    }

    /// A non-empty list of finite numbers, each in `range`, without repeats.
    pub fn number_list(
        &mut self,
        key: &str,
        range: RangeInclusive<f64>,
        open: bool,
    ) -> Result<Vec<f64>, ParamError> {
        note(key, || {
            format!(
                "a non-empty list of finite numbers in {}, no repeats",
                interval(&range, open)
            )
        });
        let items = self.list(key)?;
        let values = items
            .iter()
            .map(|v| number_in(key, v, &range, open))
            .collect::<Result<Vec<_>, _>>()?;
        let mut seen: Vec<f64> = Vec::new();
        for v in &values {
            if seen.contains(v) {
                return Err(ParamError::Invalid {
                    key: key.to_string(),
                    expected: "must not repeat a value".into(),
                    got: format!("{v} twice"),
                });
            }
            seen.push(*v);
        }
        Ok(values)
    }

    /// One of the choices `allowed`.
    pub fn choice_of<T: Choice>(&mut self, key: &str, allowed: &[T]) -> Result<T, ParamError> {
        let names: Vec<&str> = allowed.iter().map(|c| c.name()).collect();
        note(key, || format!("one of {}", names.join(", ")));
        let name = self.choice(key, &names)?;
        Ok(parse_choice(allowed, &name))
    }

    /// A list of the choices `allowed`, without repeats; non-empty unless `may_be_empty`.
    pub fn choices_of<T: Choice>(
        &mut self,
        key: &str,
        allowed: &[T],
        may_be_empty: bool,
    ) -> Result<Vec<T>, ParamError> {
        let names: Vec<&str> = allowed.iter().map(|c| c.name()).collect();
        note(key, || {
            let size = if may_be_empty {
                "a list"
            } else {
                "a non-empty list"
            };
            format!("{size} of names from {}, no repeats", names.join(", "))
        });
        let read = if may_be_empty {
            self.optional_choice_list(key, &names)?
        } else {
            self.choice_list(key, &names)?
        };
        Ok(read
            .iter()
            .map(|name| parse_choice(allowed, name))
            .collect())
    }

    /// One name from `allowed`.
    fn choice(&mut self, key: &str, allowed: &[&str]) -> Result<String, ParamError> {
        match self.value(key)? {
            Value::String(s) if allowed.contains(&s.as_str()) => Ok(s.clone()),
            other => Err(ParamError::Invalid {
                key: key.to_string(),
                expected: format!("must be one of {}", allowed.join(", ")),
                got: describe(other),
            }),
        }
    }

    /// A list of names, each one of `allowed`, without repeats; may be empty.
    fn optional_choice_list(
        &mut self,
        key: &str,
        allowed: &[&str],
    ) -> Result<Vec<String>, ParamError> {
        match self.table.get(key) {
            Some(Value::Array(items)) if items.is_empty() => {
                self.read.insert(key.to_string());
                Ok(Vec::new())
            }
            _ => self.choice_list(key, allowed),
        }
    }

    /// A non-empty list of names, each one of `allowed`, without repeats.
    fn choice_list(&mut self, key: &str, allowed: &[&str]) -> Result<Vec<String>, ParamError> {
        let items = self.list(key)?;
        let expected = || format!("must be a list of names from {}", allowed.join(", "));
        let values = items
            .iter()
            .map(|v| match v {
                Value::String(s) if allowed.contains(&s.as_str()) => Ok(s.clone()),
                other => Err(ParamError::Invalid {
                    key: key.to_string(),
                    expected: expected(),
                    got: describe(other),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        no_repeats(key, &values)?;
        Ok(values)
    }

    fn list(&mut self, key: &str) -> Result<&'a Vec<Value>, ParamError> {
        match self.value(key)? {
            Value::Array(items) if !items.is_empty() => Ok(items),
            other => Err(ParamError::Invalid {
                key: key.to_string(),
                expected: "must be a non-empty list".into(),
                got: describe(other),
            }),
        }
    }

    /// Fails if the table holds a key that was never read.
    pub fn finish(self, scenario: &str) -> Result<(), ParamError> {
        match self.table.keys().find(|k| !self.read.contains(*k)) {
            None => Ok(()),
            Some(key) => Err(ParamError::UnknownKey {
                key: key.clone(),
                scenario: scenario.to_string(),
                known: self.read.iter().cloned().collect::<Vec<_>>().join(", "),
            }),
        }
    }
}

fn integer_in(
    key: &str,
    value: &Value,
    range: &RangeInclusive<u64>,
    what: &str,
) -> Result<u64, ParamError> {
    let expected = || format!("{what} in {}..={}", range.start(), range.end());
    match value {
        Value::Integer(i) if *i >= 0 && range.contains(&(*i as u64)) => Ok(*i as u64),
        other => Err(ParamError::Invalid {
            key: key.to_string(),
            expected: expected(),
            got: describe(other),
        }),
    }
}

fn number_in(
    key: &str,
    value: &Value,
    range: &RangeInclusive<f64>,
    open: bool,
) -> Result<f64, ParamError> {
    let x = match value {
        Value::Float(x) => *x,
        Value::Integer(i) => *i as f64,
        _ => f64::NAN,
    };
    let inside = if open {
        x > *range.start() && x < *range.end()
    } else {
        range.contains(&x)
    };
    if x.is_finite() && inside {
        Ok(x)
    } else {
        let (l, r) = if open { ("(", ")") } else { ("[", "]") };
        Err(ParamError::Invalid {
            key: key.to_string(),
            expected: format!(
                "must be a finite number in {l}{}, {}{r}",
                readable(*range.start()),
                readable(*range.end())
            ),
            got: describe(value),
        })
    }
}

/// The choice named `name`, which the caller has checked is one of `allowed`.
fn parse_choice<T: Choice>(allowed: &[T], name: &str) -> T {
    *allowed
        .iter()
        .find(|c| c.name() == name)
        .unwrap_or(&allowed[0])
}

fn no_repeats<T: Ord + Display>(key: &str, values: &[T]) -> Result<(), ParamError> {
    let mut seen = BTreeSet::new();
    match values.iter().find(|v| !seen.insert(*v)) {
        None => Ok(()),
        Some(repeat) => Err(ParamError::Invalid {
            key: key.to_string(),
            expected: "must not repeat a value".into(),
            got: format!("{repeat} twice"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Table {
        parse_toml("n = 3\nlevel = 0.5\ndims = [1, 2]\nnames = [\"a\"]", "test").unwrap()
    }

    #[test]
    fn overrides_keep_types() {
        let mut table = base();
        let sets = ["n=5", "level=1", "dims=[4, 5]", "names=b", "dims=7"];
        let parsed: Vec<_> = sets.iter().map(|s| parse_assignment(s).unwrap()).collect();
        apply_overrides("s", &mut table, parsed).unwrap();
        assert_eq!(table["n"], Value::Integer(5));
        assert_eq!(table["level"], Value::Float(1.0));
        assert_eq!(table["dims"], Value::Array(vec![Value::Integer(7)]));
        assert_eq!(
            table["names"],
            Value::Array(vec![Value::String("b".into())])
        );
    }

    #[test]
    fn errors_name_the_key() {
        let mut table = base();
        let err =
            apply_overrides("s", &mut table, [parse_assignment("bogus=1").unwrap()]).unwrap_err();
        assert!(err.to_string().contains("`bogus`"), "{err}");
        let err =
            apply_overrides("s", &mut table, [parse_assignment("n=abc").unwrap()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "parameter `n` must be an integer, got \"abc\""
        );
        assert!(parse_assignment("novalue").is_err());
        assert!(parse_assignment("=3").is_err());
    }

    #[test]
    fn reader_checks_ranges_and_nan() {
        let mut table = base();
        apply_overrides("s", &mut table, [parse_assignment("level=nan").unwrap()]).unwrap();
        let mut reader = ParamReader::new(&table);
        let err = reader.number("level", 0.0..=1.0, true).unwrap_err();
        assert!(err.to_string().contains("finite number in (0, 1)"), "{err}");
        let err = reader.integer("n", 4..=10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "parameter `n` must be an integer in 4..=10, got 3"
        );
        assert!(reader.choice_list("names", &["b"]).is_err());
        assert!(reader.finish("s").is_err(), "dims was never read");
    }

    #[test]
    fn malformed_toml_reports_line() {
        let err = parse_toml("a = 1\nb = [1,\n", "f.toml").unwrap_err();
        assert!(
            matches!(err, ParamError::MalformedToml { line, .. } if line >= 2),
            "{err}"
        );
    }
}
