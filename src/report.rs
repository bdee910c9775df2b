//! What a scenario hands back after the simulation: tidy tables and claim verdicts. It knows
//! nothing of files or terminals; `output` renders it.

use std::fmt;

use serde::Serialize;

/// The outcome of a claim's statistical test (see CLAIMS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The data are consistent with the article's statement.
    Supported,
    /// The conclusion holds but the article's number is wrong.
    SupportedWithCorrection,
    /// The data contradict the statement.
    Refuted,
    /// The test had too little data to decide (e.g. no rare event observed).
    Inconclusive,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Supported => "supported",
            Verdict::SupportedWithCorrection => "supported-with-correction",
            Verdict::Refuted => "refuted",
            Verdict::Inconclusive => "inconclusive",
        })
    }
}

/// One value of a table cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Datum {
    /// A label or category.
    Text(String),
    /// A count or index.
    Integer(i64),
    /// A measurement; NaN is written as an empty (missing) field.
    Real(f64),
    /// No value (e.g. no theory known).
    Missing,
}

impl From<&str> for Datum {
    fn from(s: &str) -> Self {
        Datum::Text(s.to_string())
    }
}
impl From<String> for Datum {
    fn from(s: String) -> Self {
        Datum::Text(s)
    }
}
impl From<f64> for Datum {
    fn from(x: f64) -> Self {
        Datum::Real(x)
    }
}
impl From<u64> for Datum {
    fn from(x: u64) -> Self {
        Datum::Integer(x as i64)
    }
}
impl From<Option<f64>> for Datum {
    fn from(x: Option<f64>) -> Self {
        x.map_or(Datum::Missing, Datum::Real)
    }
}
impl From<Verdict> for Datum {
    fn from(v: Verdict) -> Self {
        Datum::Text(v.to_string())
    }
}

/// A tidy table: one row per observation, named columns in a fixed order.
#[derive(Debug, Clone, PartialEq)]
pub struct DataTable {
    /// File-name suffix: `""` for the main `<scenario>.csv`, else `<scenario>-<name>.csv`.
    pub name: String,
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, each as long as `columns`.
    pub rows: Vec<Vec<Datum>>,
}

impl DataTable {
    /// An empty table with the given columns.
    pub fn new(name: &str, columns: &[&str]) -> Self {
        DataTable {
            name: name.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row (its length must match the columns; checked in debug builds).
    pub fn push(&mut self, row: Vec<Datum>) {
        debug_assert_eq!(
            row.len(),
            self.columns.len(),
            "row length in table `{}`",
            self.name
        );
        self.rows.push(row);
    }
}

/// The verdict on one claim for one subject (e.g. C1 for the GOE ensemble), with the three
/// numbers side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Claim id, e.g. `C1`.
    pub claim: String,
    /// What the finding is about, e.g. `goe`.
    pub subject: String,
    /// The article's prediction.
    pub article: String,
    /// The best known theory.
    pub theory: String,
    /// The measurement with its confidence interval.
    pub measured: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The test that produced the verdict.
    pub test: String,
}

/// A vertical error bar `(x, low, high)`: a confidence interval, or ± standard errors.
pub type ErrorBar = (f64, f64, f64);

/// How one series is drawn when the automatic order would not say what belongs together:
/// series of one group (one depth, one optimizer) share a colour and differ by marker, and a
/// prediction is dashed in its group's colour. Looks order by colour, then marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Look {
    /// Index into the colour-blind-safe palette (taken modulo its length).
    pub colour: usize,
    /// Marker of a measurement: 0 circle, 1 square, 2 triangle, 3 cross (taken modulo 4; a
    /// prediction has none).
    pub marker: usize,
}

/// The distinct `values` in the order they first appear: a grid's values of one parameter.
///
/// ```
/// use stuck::report::distinct;
/// assert_eq!(distinct([8, 8, 16, 8, 32]), vec![8, 16, 32]);
/// ```
pub fn distinct<T: PartialEq>(values: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut distinct: Vec<T> = Vec::new();
    for v in values {
        if !distinct.contains(&v) {
            distinct.push(v);
        }
    }
    distinct
}

/// The position of `value` among the [`distinct`] `values` (0 if absent): the index of a
/// grid's parameter value, from which a [`Look`] takes its colour or marker.
///
/// ```
/// use stuck::report::rank_among;
/// let widths = [8, 8, 16, 8, 16, 32];
/// assert_eq!(rank_among(widths, &16), 1);
/// assert_eq!(rank_among(widths, &32), 2);
/// ```
pub fn rank_among<T: PartialEq>(values: impl IntoIterator<Item = T>, value: &T) -> usize {
    distinct(values)
        .iter()
        .position(|v| v == value)
        .unwrap_or(0)
}

/// A line plot a scenario asks for: named series of (x, y) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// File-name suffix: the plot is written as `<scenario>-<name>.png`.
    pub name: String,
    /// Title.
    pub title: String,
    /// Axis labels.
    pub x_label: String,
    /// Axis labels.
    pub y_label: String,
    /// (legend, points) per line.
    pub series: Vec<(String, Vec<(f64, f64)>)>,
    /// Whether points are joined by lines (`false`: a scatter plot).
    pub lines: bool,
    /// (legend, vertical error bars) of the series that have them.
    pub intervals: Vec<(String, Vec<ErrorBar>)>,
    /// A logarithmic x axis (for values that span decades; x ≤ 0 is not shown).
    pub log_x: bool,
    /// A logarithmic y axis (for values that span decades; y ≤ 0 is not shown).
    pub log_y: bool,
    /// Labels of the series that are predictions (the article's, a theory's), drawn as dashed
    /// dark lines without markers so that they stand apart from measurements.
    pub references: Vec<String>,
    /// Explicit looks of the series that have one (the others take the palette in turn).
    pub looks: Vec<(String, Look)>,
}

impl Plot {
    /// A plot with no series yet.
    pub fn new(name: &str, title: &str, x_label: &str, y_label: &str) -> Self {
        Plot {
            name: name.into(),
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series: Vec::new(),
            lines: true,
            intervals: Vec::new(),
            log_x: false,
            log_y: false,
            references: Vec::new(),
            looks: Vec::new(),
        }
    }

    /// A plot whose points are drawn as markers only.
    pub fn scatter(name: &str, title: &str, x_label: &str, y_label: &str) -> Self {
        Plot {
            lines: false,
            ..Plot::new(name, title, x_label, y_label)
        }
    }

    /// Appends `point` to the series named `label`, starting that series if it is new
    /// (series keep the order in which they first appear).
    ///
    /// ```
    /// use stuck::report::Plot;
    /// let mut plot = Plot::new("p", "title", "x", "y");
    /// plot.add("a", (0.0, 1.0));
    /// plot.add("b", (0.0, 2.0));
    /// plot.add("a", (1.0, 3.0));
    /// assert_eq!(plot.series[0], ("a".to_string(), vec![(0.0, 1.0), (1.0, 3.0)]));
    /// ```
    pub fn add(&mut self, label: impl Into<String>, point: (f64, f64)) {
        let label = label.into();
        match self.series.iter_mut().find(|(l, _)| *l == label) {
            Some((_, points)) => points.push(point),
            None => self.series.push((label, vec![point])),
        }
    }

    /// Appends `point` to the series named `label`, with the vertical error bar from `low` to
    /// `high` (a confidence interval, or ± its standard errors) drawn in the series' colour.
    ///
    /// ```
    /// use stuck::report::Plot;
    /// let mut plot = Plot::scatter("p", "title", "x", "y");
    /// plot.add_with_interval("a", (0.0, 1.0), (0.5, 2.0));
    /// assert_eq!(plot.series[0].1, vec![(0.0, 1.0)]);
    /// assert_eq!(plot.intervals[0], ("a".to_string(), vec![(0.0, 0.5, 2.0)]));
    /// ```
    pub fn add_with_interval(
        &mut self,
        label: impl Into<String>,
        point: (f64, f64),
        (low, high): (f64, f64),
    ) {
        let label = label.into();
        let bar = (point.0, low, high);
        match self.intervals.iter_mut().find(|(l, _)| *l == label) {
            Some((_, bars)) => bars.push(bar),
            None => self.intervals.push((label.clone(), vec![bar])),
        }
        self.add(label, point);
    }

    /// Appends `point` to the prediction named `label` (drawn dashed, without markers).
    ///
    /// ```
    /// use stuck::report::Plot;
    /// let mut plot = Plot::new("p", "title", "x", "y");
    /// plot.add_reference("article: n ln(1/2)", (1.0, -0.69));
    /// assert_eq!(plot.references, vec!["article: n ln(1/2)".to_string()]);
    /// ```
    pub fn add_reference(&mut self, label: impl Into<String>, point: (f64, f64)) {
        let label = label.into();
        if !self.references.contains(&label) {
            self.references.push(label.clone());
        }
        self.add(label, point);
    }

    /// Draws the series named `label` with `look` (a later call replaces an earlier one).
    ///
    /// ```
    /// use stuck::report::{Look, Plot};
    /// let mut plot = Plot::new("p", "title", "x", "y");
    /// plot.set_look("D=3 gaussian", Look { colour: 1, marker: 1 });
    /// assert_eq!(plot.look_of("D=3 gaussian"), Some(Look { colour: 1, marker: 1 }));
    /// assert_eq!(plot.look_of("D=4 gaussian"), None);
    /// ```
    pub fn set_look(&mut self, label: impl Into<String>, look: Look) {
        let label = label.into();
        match self.looks.iter_mut().find(|(l, _)| *l == label) {
            Some((_, old)) => *old = look,
            None => self.looks.push((label, look)),
        }
    }

    /// The explicit look of the series named `label`, if it has one.
    pub fn look_of(&self, label: &str) -> Option<Look> {
        self.looks
            .iter()
            .find(|(l, _)| l == label)
            .map(|&(_, look)| look)
    }

    /// The error bars of the series named `label` (empty if it has none).
    pub fn intervals_of(&self, label: &str) -> Vec<ErrorBar> {
        self.intervals
            .iter()
            .find(|(l, _)| l == label)
            .map_or_else(Vec::new, |(_, bars)| bars.clone())
    }
}

/// Everything a scenario reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Tables; the first is the main CSV.
    pub tables: Vec<DataTable>,
    /// One finding per claim and subject.
    pub findings: Vec<Finding>,
    /// Plots to draw beside the tables.
    pub plots: Vec<Plot>,
}

/// The verdict of the first finding whose subject starts with `subject`, if any (findings
/// are looked up by subject in tests and by callers that read one claim).
///
/// ```
/// use stuck::report::{Finding, Verdict, verdict_of};
/// let f = Finding {
///     claim: "C1".into(),
///     subject: "goe tail".into(),
///     article: String::new(),
///     theory: String::new(),
///     measured: String::new(),
///     verdict: Verdict::Supported,
///     test: String::new(),
/// };
/// assert_eq!(verdict_of(&[f], "goe"), Some(Verdict::Supported));
/// ```
pub fn verdict_of(findings: &[Finding], subject: &str) -> Option<Verdict> {
    findings
        .iter()
        .find(|f| f.subject.starts_with(subject))
        .map(|f| f.verdict)
}

/// A number in 3 significant figures, scientific when far from 1, for findings.
///
/// ```
/// use stuck::report::short;
/// assert_eq!(short(0.00390625), "3.91e-3");
/// assert_eq!(short(0.146), "0.146");
/// ```
pub fn short(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 || (1e-2..1e4).contains(&x.abs()) {
        format!("{}", (x * 1000.0).round() / 1000.0)
    } else {
        format!("{x:.2e}")
    }
}

/// `value +- se` with the error in two significant figures and the value to the same decimal
/// place, so no error prints as `0.0000`; a missing or zero error is said in words.
///
/// ```
/// use stuck::report::plus_minus;
/// assert_eq!(plus_minus(0.103312, 0.000123), "0.10331 +- 0.00012");
/// assert_eq!(plus_minus(-706.2, 0.21), "-706.20 +- 0.21");
/// assert_eq!(plus_minus(1.5, 0.0), "1.5 (no error estimate)");
/// ```
pub fn plus_minus(value: f64, se: f64) -> String {
    if !(se.is_finite() && se > 0.0) {
        return format!("{} (no error estimate)", short(value));
    }
    if se >= 100.0 || value.abs() >= 1e7 {
        return format!("{} +- {}", short(value), short(se));
    }
    let decimals = (1 - se.log10().floor() as i32).clamp(0, 15) as usize;
    format!("{value:.decimals$} +- {se:.decimals$}")
}

/// `e^{ln_value}` written as a power of ten, for numbers beyond f64 (e.g. `10^-1193.2`).
///
/// ```
/// use stuck::report::power_of_ten;
/// assert_eq!(power_of_ten(-100.0 * std::f64::consts::LN_2), "10^-30.1");
/// ```
pub fn power_of_ten(ln_value: f64) -> String {
    format!("10^{:.1}", ln_value / std::f64::consts::LN_10)
}
