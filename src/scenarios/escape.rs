//! First-passage (escape) times: the mergeable accumulator and its summary, shared by the
//! saddle and well scenarios.

use serde::{Deserialize, Serialize};

use crate::mc::Accumulator;
use crate::optim::Passage;
use crate::stats::{LogHistogram, MeanVar};

/// Escape times of one grid cell. Runs that hit the step budget are censored (counted, not
/// averaged); runs whose iterate became NaN/inf, or underflowed to subnormal numbers, are
/// counted separately and never enter the moments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EscapeTimes {
    /// Steps of the runs that escaped.
    pub steps: MeanVar,
    /// Their log-binned histogram (quantiles, KS).
    pub histogram: LogHistogram,
    /// Runs that reached the budget.
    pub censored: u64,
    /// Runs that diverged.
    pub diverged: u64,
    /// Runs that underflowed.
    pub underflow: u64,
}

impl EscapeTimes {
    /// Records one run.
    pub fn record(&mut self, passage: Passage) {
        match passage {
            Passage::Reached(t) => {
                self.steps.push(t as f64);
                self.histogram.push(t);
            }
            Passage::Censored => self.censored += 1,
            Passage::Diverged => self.diverged += 1,
            Passage::Underflow => self.underflow += 1,
            // Cut short by a stop request: not an observation (the engine reruns the chunk).
            Passage::Stopped => {}
        }
    }

    /// All runs.
    pub fn runs(&self) -> u64 {
        self.steps.count() + self.censored + self.diverged + self.underflow
    }

    /// Coefficient of variation of the escape time, sd/mean.
    pub fn coefficient_of_variation(&self) -> f64 {
        self.steps.sample_sd() / self.steps.mean()
    }
}

impl Accumulator for EscapeTimes {
    fn merge(&mut self, later: Self) {
        self.steps.merge(&later.steps);
        self.histogram.merge(&later.histogram);
        self.censored += later.censored;
        self.diverged += later.diverged;
        self.underflow += later.underflow;
    }

    fn replicates(&self) -> u64 {
        self.runs()
    }
}

/// The columns every escape table shares, after the cell's parameters.
pub const ESCAPE_COLUMNS: [&str; 12] = [
    "mean_steps",
    "mean_steps_se",
    "sd_steps",
    "cv",
    "median_steps",
    "q05_steps",
    "q95_steps",
    "escaped",
    "censored",
    "escaped_fraction",
    "diverged",
    "underflow",
];

/// The values of [`ESCAPE_COLUMNS`] for one cell. Statistics of the escape times are empty
/// (missing) where too few runs escaped to compute them, never a 0 that could be read as a
/// measurement: no mean or quantile without an escape, no standard error or spread without
/// two.
pub fn escape_values(times: &EscapeTimes) -> Vec<crate::report::Datum> {
    use crate::report::Datum;
    let runs = times.runs().max(1) as f64;
    let escaped = times.steps.count();
    let when = |enough: bool, x: f64| {
        if enough && x.is_finite() {
            Datum::Real(x)
        } else {
            Datum::Missing
        }
    };
    let quantile = |q| times.histogram.quantile(q);
    vec![
        when(escaped >= 1, times.steps.mean()),
        when(escaped >= 2, times.steps.standard_error()),
        when(escaped >= 2, times.steps.sample_sd()),
        when(escaped >= 2, times.coefficient_of_variation()),
        quantile(0.5).into(),
        quantile(0.05).into(),
        quantile(0.95).into(),
        escaped.into(),
        times.censored.into(),
        (escaped as f64 / runs).into(),
        times.diverged.into(),
        times.underflow.into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::Passage;
    use crate::report::Datum;

    #[test]
    fn no_escape_means_missing_statistics_not_zeros() {
        let mut times = EscapeTimes::default();
        times.record(Passage::Censored);
        times.record(Passage::Diverged);
        let values = escape_values(&times);
        for (column, value) in ESCAPE_COLUMNS.iter().zip(&values).take(7) {
            assert!(matches!(value, Datum::Missing), "{column}: {value:?}");
        }
        assert!(matches!(values[10], Datum::Integer(1)));
        times.record(Passage::Reached(7));
        let values = escape_values(&times);
        assert!(matches!(values[0], Datum::Real(x) if x == 7.0));
        assert!(matches!(values[1], Datum::Missing));
    }
}
