//! The tables of `critical-volume`.

use std::f64::consts::LN_10;

use super::CriticalVolume;
use super::cells::Cell;
use super::claims::Row;
use super::records::VolumeRuns;
use crate::choice::Choice;
use crate::report::{DataTable, Finding, Verdict, short};
use crate::stats::{Proportion, StatsError, two_sided_z};

/// `critical-volume.csv`: one row per synthetic or network cell.
pub fn main_table(rows: &[Row], confidence: f64) -> Result<DataTable, StatsError> {
    let z = two_sided_z(confidence)?;
    let mut table = DataTable::new(
        "",
        &[
            "landscape",
            "n",
            "p",
            "method",
            "sweeps",
            "samples",
            "ln_p",
            "ln_p_se",
            "ln_p_low",
            "ln_p_high",
            "ln_p_raw_mean",
            "exact_ln_p",
            "t_vs_exact",
            "essay_ln_p",
            "reference_sd",
            "log10_excess",
            "log10_excess_low",
            "log10_excess_high",
            "p_value_vs_essay",
            "sd_runs",
            "sd_ideal",
            "acceptance",
            "stages",
            "diverged",
        ],
    );
    for r in rows {
        let (excess, low, high) = r.excess(z);
        table.push(vec![
            r.landscape.clone().into(),
            (r.n as u64).into(),
            r.p.into(),
            r.method.name().into(),
            r.sweeps.into(),
            r.samples.into(),
            r.ln_p.into(),
            r.se.into(),
            (r.ln_p - z * r.se).into(),
            (r.ln_p + z * r.se).into(),
            r.raw_mean.into(),
            r.exact.into(),
            r.exact.map(|e| (r.ln_p - e) / r.se).into(),
            r.essay.into(),
            r.reference_sd.into(),
            excess.into(),
            low.into(),
            high.into(),
            r.essay_test().into(),
            r.sd_runs.into(),
            r.sd_ideal.into(),
            r.acceptance.into(),
            r.stages.into(),
            r.diverged.into(),
        ]);
    }
    Ok(table)
}

/// `critical-volume-network.csv`: per network, the random points and the points inside the
/// box (their loss, output spread and Hessian index).
pub fn network_table(exp: &CriticalVolume, cells: &[VolumeRuns]) -> DataTable {
    let mut table = DataTable::new(
        "network",
        &[
            "width",
            "init",
            "p",
            "parameters",
            "live",
            "random_loss",
            "random_spread",
            "inside_points",
            "inside_loss",
            "inside_loss_se",
            "inside_spread",
            "inside_spread_se",
            "inside_index_1e-3",
            "inside_index_se",
        ],
    );
    for (cell, runs) in exp.cells.iter().zip(cells) {
        let (Cell::Network { id }, VolumeRuns::Splitting(s)) = (cell, runs) else {
            continue;
        };
        let net = exp.mlp(*id);
        let (_, calibration) = exp.calibrated(*id, &net);
        let spec = exp.networks[*id];
        table.push(vec![
            (spec.width as u64).into(),
            spec.init.name().into(),
            spec.p.into(),
            (net.parameters() as u64).into(),
            (calibration.live.len() as u64).into(),
            calibration.random_loss.mean().into(),
            calibration.random_spread.mean().into(),
            s.inside_loss.count().into(),
            s.inside_loss.mean().into(),
            s.inside_loss.standard_error().into(),
            s.inside_spread.mean().into(),
            s.inside_spread.standard_error().into(),
            s.inside_index.mean().into(),
            s.inside_index.standard_error().into(),
        ]);
    }
    table
}

/// `critical-volume-trajectories.csv` and one finding per trajectory cell: the fraction of
/// checked optimizer iterates inside the box against the probability at random points.
pub fn trajectory_table(
    exp: &CriticalVolume,
    cells: &[VolumeRuns],
    rows: &[Row],
) -> Result<(DataTable, Vec<Finding>), StatsError> {
    let z = two_sided_z(exp.confidence)?;
    let mut table = DataTable::new(
        "trajectories",
        &[
            "width",
            "init",
            "p",
            "optimizer",
            "runs",
            "checks",
            "inside",
            "fraction_inside",
            "fraction_low",
            "fraction_high",
            "entered",
            "first_entry_step",
            "final_loss",
            "diverged",
            "random_log10_p",
            "random_log10_p_high",
        ],
    );
    let mut findings = Vec::new();
    for (cell, runs) in exp.cells.iter().zip(cells) {
        let (Cell::Trajectory { id, optimizer }, VolumeRuns::Trajectory(t)) = (cell, runs) else {
            continue;
        };
        let spec = exp.networks[*id];
        let random = rows
            .iter()
            .find(|r| matches!(exp.cells[r.cell], Cell::Network { id: i } if i == *id));
        let (random_log10, random_high) = random.map_or((f64::NAN, f64::NAN), |r| {
            (r.ln_p / LN_10, (r.ln_p + z * r.se) / LN_10)
        });
        let inside = Proportion::new(t.inside, t.checks);
        let (low, high) = inside.clopper_pearson(exp.confidence)?;
        table.push(vec![
            (spec.width as u64).into(),
            spec.init.name().into(),
            spec.p.into(),
            optimizer.name().into(),
            t.runs.into(),
            t.checks.into(),
            t.inside.into(),
            inside.estimate().into(),
            low.into(),
            high.into(),
            t.entered.into(),
            t.first_entry.mean().into(),
            t.final_loss.mean().into(),
            t.diverged.into(),
            random_log10.into(),
            random_high.into(),
        ]);
        // Optimizer points are pulled into the box when the lower bound of their fraction
        // exceeds the upper bound of the random points' probability. The converse cannot be
        // shown: a few hundred checks cannot bound a fraction below 10^-30.
        let verdict = if random_high.is_finite() && t.inside > 0 && low.log10() > random_high {
            Verdict::Refuted
        } else {
            Verdict::Inconclusive
        };
        findings.push(Finding {
            claim: "C3".into(),
            subject: format!(
                "{} iterates, digits width {} {} p={}",
                optimizer.name(),
                spec.width,
                spec.init.name(),
                spec.p
            ),
            article: "an optimizer lands near a critical point as rarely as a random jump".into(),
            theory: format!("random points: log10 P = {}", short(random_log10)),
            measured: format!(
                "{} of {} checked iterates inside ({} [{}, {}]), {} of {} runs entered",
                t.inside,
                t.checks,
                short(inside.estimate()),
                short(low),
                short(high),
                t.entered,
                t.runs
            ),
            verdict,
            test: format!(
                "Clopper-Pearson {} interval of the iterates' fraction against the upper {} \
                 bound of P at random points: 'refuted' when the fraction is surely larger, \
                 else inconclusive (a fraction as small as P cannot be shown by counting)",
                exp.confidence, exp.confidence
            ),
        });
    }
    Ok((table, findings))
}
