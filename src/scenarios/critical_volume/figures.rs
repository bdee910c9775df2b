//! The figures of `critical-volume`: log₁₀ P against n, and its excess over the essay's pⁿ.

use std::f64::consts::LN_10;

use super::CriticalVolume;
use super::cells::{Cell, Init, OptimizerName, Synthetic};
use super::claims::Row;
use super::records::VolumeRuns;
use crate::choice::Choice;
use crate::report::{Look, Plot, rank_among, short};
use crate::stats::{Proportion, StatsError, two_sided_z};

/// log₁₀ P (± 2 SE) against n for every landscape and p (splitting and direct cells at the
/// scenario's sweeps), with the essay's line n log₁₀ p dashed and, at each network's n,
/// log₁₀ of the fraction of optimizer iterates inside the same box (where any was) with its
/// Clopper–Pearson interval at `confidence`. The y axis is log₁₀ P itself, not a log axis: P
/// reaches 10⁻²³⁰⁰, far below the smallest `f64`.
pub fn volume_plot(
    exp: &CriticalVolume,
    rows: &[Row],
    cells: &[VolumeRuns],
    confidence: f64,
) -> Result<Plot, StatsError> {
    let mut plot = Plot::new(
        "log10-p",
        "Near-critical volume: log10 P(|g_i| < tau_i for all i) against n",
        "n (partial derivatives)",
        "log10 P (± 2 SE)",
    );
    for r in rows {
        if r.ln_p.is_finite() && at_own_sweeps(exp, r) {
            let (low, high) = (r.ln_p - 2.0 * r.se, r.ln_p + 2.0 * r.se);
            plot.add_with_interval(
                format!("{} p={}", r.landscape, r.p),
                (r.n as f64, r.ln_p / LN_10),
                (low / LN_10, high / LN_10),
            );
        }
    }
    for (cell, runs) in exp.cells.iter().zip(cells) {
        let (Cell::Trajectory { id, optimizer }, VolumeRuns::Trajectory(t)) = (cell, runs) else {
            continue;
        };
        let network = network_row(exp, rows, *id);
        if let (Some(network), true) = (network, t.inside > 0) {
            let (low, high) = Proportion::new(t.inside, t.checks).clopper_pearson(confidence)?;
            plot.add_with_interval(
                format!(
                    "{} iterates, {} p={}",
                    optimizer.name(),
                    network.landscape,
                    network.p
                ),
                (
                    network.n as f64,
                    (t.inside as f64 / t.checks as f64).log10(),
                ),
                (low.log10(), high.log10()),
            );
        }
    }
    let mut essay: Vec<(f64, f64)> = rows.iter().map(|r| (r.p, r.n as f64)).collect();
    essay.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    essay.dedup();
    for (p, n) in essay {
        plot.add_reference(format!("essay p^n, p={p}"), (n, n * p.log10()));
    }
    Ok(plot)
}

/// One figure per marginal p: the excess `log₁₀(P/pⁿ)` against n, where the essay's pⁿ is
/// the flat line 0 and every departure from it shows at its own scale (on [`volume_plot`]'s
/// axis every series hugs its line n log₁₀ p, which spans a thousand decades).
///
/// Measured: every synthetic and network cell at the scenario's sweeps, with the confidence
/// interval of [`Row::excess`] (estimate and box-calibration errors), and the fraction of
/// optimizer iterates inside the box where any was, with its Clopper–Pearson interval. Dashed:
/// the exact excess of the laws that have one (in the law's colour) and the essay's 0. One
/// colour per family (independent, equicorrelated, scale-mixture, features, the network at
/// random points, gd iterates, sgd iterates) and one marker per parameter within it (ρ, M or K
/// in the grid's order; the initialisation for the network and the iterates), so the
/// legend's colour and marker say what a line is; the networks' widths are their n.
pub fn excess_plots(
    exp: &CriticalVolume,
    rows: &[Row],
    cells: &[VolumeRuns],
    confidence: f64,
) -> Result<Vec<Plot>, StatsError> {
    let mut probabilities: Vec<f64> = rows.iter().map(|r| r.p).collect();
    probabilities.sort_by(f64::total_cmp);
    probabilities.dedup();
    probabilities
        .into_iter()
        .map(|p| excess_plot(exp, rows, cells, confidence, p))
        .collect()
}

/// A measured point of an excess figure: series, look, (n, excess), its interval.
type Measured = (String, Look, (f64, f64), (f64, f64));

/// The excess figure of marginal `p` (see [`excess_plots`]).
fn excess_plot(
    exp: &CriticalVolume,
    rows: &[Row],
    cells: &[VolumeRuns],
    confidence: f64,
    p: f64,
) -> Result<Plot, StatsError> {
    let z = two_sided_z(confidence)?;
    let mut measured: Vec<Measured> = Vec::new();
    let mut exact: Vec<(String, Look, (f64, f64))> = Vec::new();
    for r in rows.iter().filter(|r| r.p == p && r.ln_p.is_finite()) {
        if !at_own_sweeps(exp, r) {
            continue;
        }
        let (label, look) = series_of(exp, exp.cells[r.cell]);
        let (excess, low, high) = r.excess(z);
        let n = r.n as f64;
        measured.push((label.clone(), look, (n, excess), (low, high)));
        if let Some(ln_p) = r.exact.filter(|&ln_p| ln_p != r.essay) {
            exact.push((
                format!("exact, {label}"),
                look,
                (n, (ln_p - r.essay) / LN_10),
            ));
        }
    }
    for (cell, runs) in exp.cells.iter().zip(cells) {
        let (&Cell::Trajectory { id, .. }, VolumeRuns::Trajectory(t)) = (cell, runs) else {
            continue;
        };
        let network = network_row(exp, rows, id);
        let Some(network) = network.filter(|r| r.p == p && t.inside > 0) else {
            continue;
        };
        let (low, high) = Proportion::new(t.inside, t.checks).clopper_pearson(confidence)?;
        let essay = network.n as f64 * p.log10();
        let fraction = t.inside as f64 / t.checks as f64;
        let (label, look) = series_of(exp, *cell);
        measured.push((
            label,
            look,
            (network.n as f64, fraction.log10() - essay),
            (low.log10() - essay, high.log10() - essay),
        ));
    }
    // Legend entries family by family, each line's points from left to right.
    measured.sort_by(|a, b| a.1.cmp(&b.1).then(a.2.0.total_cmp(&b.2.0)));
    exact.sort_by(|a, b| a.1.cmp(&b.1).then(a.2.0.total_cmp(&b.2.0)));
    exact.dedup();

    let mut plot = Plot::new(
        &format!("excess-p{p}"),
        &format!("Near-critical volume against the essay's p^n, p={p}: log10(P/p^n) against n"),
        "n (partial derivatives)",
        &format!(
            "log10(P/p^n) ({} % interval; dashed: exact, essay 0)",
            short(100.0 * confidence)
        ),
    );
    let span = measured.iter().map(|m| m.2.0);
    let (first, last) = (
        span.clone().fold(f64::INFINITY, f64::min),
        span.fold(0.0, f64::max),
    );
    for (label, look, point, interval) in measured {
        plot.set_look(&label, look);
        plot.add_with_interval(label, point, interval);
    }
    for (label, look, point) in exact {
        plot.set_look(&label, look);
        plot.add_reference(label, point);
    }
    if first <= last {
        for n in [first, last] {
            plot.add_reference("essay: P = p^n", (n, 0.0));
        }
    }
    Ok(plot)
}

/// The series of an excess figure that a cell's estimates belong to, and its look: the
/// family's colour and the parameter's marker (see [`excess_plots`]). A network's series runs
/// over its widths, so it is named `digits 64-w-10 <init>`.
fn series_of(exp: &CriticalVolume, cell: Cell) -> (String, Look) {
    let network = |id: usize| {
        let spec = exp.networks[id];
        let marker = match spec.init {
            Init::Glorot => 0,
            Init::Small => 1,
        };
        let label = format!(
            "digits {}-w-{} {}",
            exp.data.features,
            exp.data.classes,
            spec.init.name()
        );
        (label, marker)
    };
    match cell {
        Cell::Synthetic { law, .. } => {
            let (family, value) = family_and_parameter(law);
            let values = exp.cells.iter().filter_map(|c| match *c {
                Cell::Synthetic { law, .. } => Some(family_and_parameter(law))
                    .filter(|&(f, _)| f == family)
                    .map(|(_, v)| v),
                _ => None,
            });
            let look = Look {
                colour: family,
                marker: rank_among(values, &value),
            };
            (law.label(), look)
        }
        Cell::Network { id } => {
            let (label, marker) = network(id);
            (label, Look { colour: 4, marker })
        }
        Cell::Trajectory { id, optimizer } => {
            let (label, marker) = network(id);
            let colour = match optimizer {
                OptimizerName::Gd => 5,
                OptimizerName::Sgd => 6,
            };
            (
                format!("{} iterates, {label}", optimizer.name()),
                Look { colour, marker },
            )
        }
    }
}

/// A law's family (0 independent, 1 equicorrelated, 2 scale-mixture, 3 features) and the
/// parameter that tells its members apart.
fn family_and_parameter(law: Synthetic) -> (usize, f64) {
    match law {
        Synthetic::Independent => (0, 0.0),
        Synthetic::Equicorrelated { rho } => (1, rho),
        Synthetic::ScaleMixture { m } => (2, m as f64),
        Synthetic::Features { k } => (3, k as f64),
    }
}

/// Whether a row is drawn: direct cells, and splitting cells at the scenario's own sweeps (the
/// mixing cells at other sweeps are in the CSV only).
fn at_own_sweeps(exp: &CriticalVolume, r: &Row) -> bool {
    let own = if r.network {
        exp.network.sweeps
    } else {
        exp.synthetic.sweeps
    };
    r.sweeps == own || r.sweeps == 0.0
}

/// The row of the network of spec `id` (where a trajectory cell's iterates are drawn).
fn network_row<'a>(exp: &CriticalVolume, rows: &'a [Row], id: usize) -> Option<&'a Row> {
    rows.iter()
        .find(|r| matches!(exp.cells[r.cell], Cell::Network { id: i } if i == id))
}
