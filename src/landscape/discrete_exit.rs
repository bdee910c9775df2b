//! The exact mean exit time of a discrete-time walk `x ← μ(x) + s·ξ` (ξ ~ N(0, 1)) from an
//! interval: the reference for noisy GD, which is such a walk, where continuous-time
//! formulas carry an Euler bias of order η.
//!
//! The mean number of steps `m(x)` to leave `(lower, upper)` from `x` solves the Fredholm
//! equation of the second kind
//!
//! `m(x) = 1 + ∫_lower^upper m(y) N(y; μ(x), s²) dy`
//!
//! (first-step analysis; e.g. S. Karlin & H. M. Taylor, *A First Course in Stochastic
//! Processes*, 2nd ed., §3.4). It is solved by Nyström's method with product integration:
//! `m` is piecewise linear on a uniform grid and the Gaussian kernel is integrated exactly
//! against each hat function (`∫ N = Φ(β) − Φ(α)`, `∫ (y − μ) N = s(φ(α) − φ(β))`), so the
//! cut at the interval's ends is exact and the error is O(h²), removed by Richardson
//! extrapolation from h = s/10 and s/20. The matrix `I − W` is an
//! M-matrix (W is substochastic), so Gaussian elimination without pivoting is stable; the
//! kernel is negligible beyond 7.5 s, so elimination runs inside the band.

use statrs::function::erf::erfc;

/// Grid points per noise standard deviation `s` of the coarser of the two grids whose results
/// are Richardson-extrapolated (`(4m(h/2) − m(h))/3` removes the O(h²) term; at h = s/10 the
/// extrapolated value is within 10⁻⁴ relative of the converged one, see the convergence test).
const POINTS_PER_SD: f64 = 10.0;

/// The kernel is cut at this many standard deviations (mass beyond: 6·10⁻¹⁴).
const KERNEL_REACH: f64 = 7.5;

/// Largest grid accepted (the band solve costs about N·(band)² operations).
const MAX_POINTS: usize = 200_000;

/// Mean number of steps for the walk `x ← drift(x) + noise_sd·ξ` started at `start` to leave
/// `(lower, upper)`, counting the step that leaves. `None` when the inputs are not finite,
/// `start` is outside the interval, or the grid would exceed 200 000 points.
///
/// ```
/// use stuck::landscape::discrete_mean_exit_steps;
/// // A walk with no drift and large steps leaves (−0.01, 0.01) at its first step.
/// let m = discrete_mean_exit_steps(|x| x, 10.0, -0.01, 0.01, 0.0).unwrap();
/// assert!((m - 1.0).abs() < 1e-3);
/// ```
pub fn discrete_mean_exit_steps(
    drift: impl Fn(f64) -> f64,
    noise_sd: f64,
    lower: f64,
    upper: f64,
    start: f64,
) -> Option<f64> {
    let coarse = mean_exit_on_grid(&drift, noise_sd, (lower, upper), start, POINTS_PER_SD)?;
    let fine = mean_exit_on_grid(&drift, noise_sd, (lower, upper), start, 2.0 * POINTS_PER_SD)?;
    Some((4.0 * fine - coarse) / 3.0)
}

/// [`discrete_mean_exit_steps`] with `points_per_sd` grid points per noise standard deviation.
fn mean_exit_on_grid(
    drift: &impl Fn(f64) -> f64,
    noise_sd: f64,
    (lower, upper): (f64, f64),
    start: f64,
    points_per_sd: f64,
) -> Option<f64> {
    let finite = [noise_sd, lower, upper, start]
        .iter()
        .all(|v| v.is_finite());
    if !finite || noise_sd <= 0.0 || lower >= upper || !(lower..=upper).contains(&start) {
        return None;
    }
    let segments = ((upper - lower) * points_per_sd / noise_sd).ceil().max(2.0);
    if segments > MAX_POINTS as f64 {
        return None;
    }
    let grid = Grid {
        lower,
        h: (upper - lower) / segments,
        nodes: segments as usize + 1,
    };
    let rows: Vec<SparseRow> = (0..grid.nodes)
        .map(|i| grid.kernel_row(drift(grid.node(i)), noise_sd))
        .collect();
    if rows
        .iter()
        .any(|r| r.weights.iter().any(|w| !w.is_finite()))
    {
        return None;
    }
    let m = solve_m_matrix(&rows, grid.nodes)?;
    // Nyström interpolation: the equation itself evaluated at the start.
    let row = grid.kernel_row(drift(start), noise_sd);
    let value = 1.0
        + row
            .weights
            .iter()
            .enumerate()
            .map(|(k, w)| w * m[row.first + k])
            .sum::<f64>();
    value.is_finite().then_some(value)
}

/// A uniform grid on `[lower, lower + (nodes − 1)·h]`.
struct Grid {
    lower: f64,
    h: f64,
    nodes: usize,
}

/// The nonzero weights `W_{i,first..first+len}` of one row.
struct SparseRow {
    first: usize,
    weights: Vec<f64>,
}

impl Grid {
    fn node(&self, i: usize) -> f64 {
        self.lower + i as f64 * self.h
    }

    /// Weights of the hat functions against `N(·; mean, sd²)` over the grid.
    fn kernel_row(&self, mean: f64, sd: f64) -> SparseRow {
        let last_segment = self.nodes - 1;
        let from = ((mean - KERNEL_REACH * sd - self.lower) / self.h).floor();
        let to = ((mean + KERNEL_REACH * sd - self.lower) / self.h).ceil();
        let first = from.clamp(0.0, last_segment as f64) as usize;
        let end = to.clamp(0.0, last_segment as f64) as usize;
        if from >= last_segment as f64 || to <= 0.0 || first >= end {
            return SparseRow {
                first: 0,
                weights: Vec::new(),
            };
        }
        let mut weights = vec![0.0; end - first + 1];
        // Φ and φ at each node once: adjacent segments share their ends.
        let standardised = |k: usize| (self.node(k) - mean) / sd;
        let alpha = standardised(first);
        let (mut lower_tail, mut density) = (upper_tail(alpha), normal_density(alpha));
        for k in first..end {
            let beta = standardised(k + 1);
            let (beta_tail, beta_density) = (upper_tail(beta), normal_density(beta));
            // Φ(β) − Φ(α) = Q(α) − Q(β), Q the upper tail (accurate where both are small; for
            // α, β < 0 both Q are near 1 and the difference loses at most 1e-16 absolute).
            let mass = (lower_tail - beta_tail).max(0.0);
            let first_moment = sd * (density - beta_density);
            // ∫ (y − a)/h N dy = (∫ (y − μ) N + (μ − a) ∫ N)/h goes to the right node.
            let right = (first_moment + (mean - self.node(k)) * mass) / self.h;
            weights[k - first] += mass - right;
            weights[k + 1 - first] += right;
            (lower_tail, density) = (beta_tail, beta_density);
        }
        SparseRow { first, weights }
    }
}

/// The upper tail `Q(x) = 1 − Φ(x) = erfc(x/√2)/2`.
fn upper_tail(x: f64) -> f64 {
    0.5 * erfc(x / std::f64::consts::SQRT_2)
}

fn normal_density(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Solves `(I − W) m = 1` by banded Gaussian elimination without pivoting (stable for the
/// M-matrix `I − W`); `None` if a pivot is not positive (the walk never leaves). Each row's
/// last nonzero column is tracked (a skyline), so rows reached by a long drift, such as those
/// next to a steep wall, do not widen the work on every other row.
fn solve_m_matrix(rows: &[SparseRow], n: usize) -> Option<Vec<f64>> {
    // Band limits: below = max(i − first column), above = max(last column − i).
    let mut below = 0;
    let mut above = 0;
    let mut last: Vec<usize> = (0..n).collect();
    for (i, r) in rows.iter().enumerate() {
        if r.weights.is_empty() {
            continue;
        }
        let end = r.first + r.weights.len() - 1;
        below = below.max(i.saturating_sub(r.first));
        above = above.max(end.saturating_sub(i));
        last[i] = last[i].max(end);
    }
    let width = below + above + 1;
    // Row i holds columns i − below ..= i + above at offsets 0..width; column j of row i is at
    // i·width + below + j − i.
    let mut band = vec![0.0; n * width];
    for (i, r) in rows.iter().enumerate() {
        band[i * width + below] = 1.0;
        for (k, w) in r.weights.iter().enumerate() {
            let column = r.first + k;
            band[i * width + below + column - i] -= w;
        }
    }
    let mut rhs = vec![1.0; n];
    for k in 0..n {
        let pivot = band[k * width + below];
        if pivot.is_nan() || pivot <= 0.0 {
            return None;
        }
        let span = last[k] - k + 1;
        let (head, tail) = band.split_at_mut((k + 1) * width);
        let pivot_row = &head[k * width + below..k * width + below + span];
        for i in k + 1..n.min(k + below + 1) {
            let row = &mut tail[(i - k - 1) * width..(i - k) * width];
            let offset = below + k - i;
            let factor = row[offset] / pivot;
            if factor == 0.0 {
                continue;
            }
            for (target, source) in row[offset..offset + span].iter_mut().zip(pivot_row) {
                *target -= factor * source;
            }
            rhs[i] -= factor * rhs[k];
            last[i] = last[i].max(last[k]);
        }
    }
    let mut m = vec![0.0; n];
    for k in (0..n).rev() {
        let row = &band[k * width + below..];
        let sum: f64 = (k + 1..=last[k]).map(|j| row[j - k] * m[j]).sum();
        m[k] = (rhs[k] - sum) / row[0];
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::chunk_stream;
    use rand::RngExt;
    use rand_distr::StandardNormal;

    /// Monte Carlo of the walk: mean exit steps and its standard error.
    fn simulate(
        drift: impl Fn(f64) -> f64,
        sd: f64,
        (lower, upper): (f64, f64),
        start: f64,
        runs: u64,
    ) -> (f64, f64) {
        let mut rng = chunk_stream(5, "discrete-exit", 0, 0);
        let (mut sum, mut squares) = (0.0, 0.0);
        for _ in 0..runs {
            let mut x = start;
            let mut steps = 0.0;
            loop {
                steps += 1.0;
                x = drift(x) + sd * rng.sample::<f64, _>(StandardNormal);
                if x <= lower || x >= upper {
                    break;
                }
            }
            sum += steps;
            squares += steps * steps;
        }
        let r = runs as f64;
        let mean = sum / r;
        (mean, ((squares / r - mean * mean) / (r - 1.0)).sqrt())
    }

    /// The unstable AR(1) of a saddle, u ← 1.05u + 0.1ξ, leaving (−1, 1) from 0, and a
    /// double-well walk from its minimum to the barrier top: the solution agrees with the
    /// simulated walks within 5 standard errors.
    #[test]
    fn agrees_with_simulated_walks() {
        let saddle = |u: f64| 1.05 * u;
        let exact = discrete_mean_exit_steps(saddle, 0.1, -1.0, 1.0, 0.0).unwrap();
        let (mean, se) = simulate(saddle, 0.1, (-1.0, 1.0), 0.0, 200_000);
        assert!((exact - mean).abs() < 5.0 * se, "{exact} vs {mean} ± {se}");

        let eta = 0.05;
        let well = |x: f64| x - eta * (x * x * x - x);
        let sd = eta * (2.0 * 0.25 / (2.0 * eta)).sqrt();
        let exact = discrete_mean_exit_steps(well, sd, -4.0, 0.0, -1.0).unwrap();
        let (mean, se) = simulate(well, sd, (-4.0, 0.0), -1.0, 40_000);
        assert!((exact - mean).abs() < 5.0 * se, "{exact} vs {mean} ± {se}");
    }

    /// The Richardson value from h = s/10 and s/20 agrees with the one from s/20 and s/40
    /// within 10⁻⁴ relative, at the noisiest and the quietest noise of the paper profile.
    #[test]
    fn grid_is_fine_enough() {
        let eta = 0.05;
        let well = |x: f64| x - eta * (x * x * x - x);
        for ratio in [1.0, 7.0] {
            let sd = eta * (2.0 * 0.25 / (ratio * eta)).sqrt();
            let at = |p: f64| mean_exit_on_grid(&well, sd, (-3.0, 1.0), -1.0, p).unwrap();
            let (m10, m20, m40) = (at(10.0), at(20.0), at(40.0));
            let (used, finer) = ((4.0 * m20 - m10) / 3.0, (4.0 * m40 - m20) / 3.0);
            assert!(((used - finer) / finer).abs() < 1e-4, "{used} vs {finer}");
        }
    }

    /// As η → 0 the walk's mean exit time approaches the continuous-time one (Euler bias
    /// O(√η) at an absorbing level; here checked at η = 10⁻³ within 2 %).
    #[test]
    fn approaches_the_diffusion_as_the_step_shrinks() {
        use crate::landscape::{DoubleWell, mean_first_passage_time};
        let well = DoubleWell::new(1, 0.0);
        let diffusion: f64 = 0.25 / 3.0;
        let eta = 1e-3;
        let sd = (2.0 * diffusion * eta).sqrt();
        let steps =
            discrete_mean_exit_steps(|x| x - eta * well.slope(x), sd, -3.0, 0.0, -1.0).unwrap();
        let continuous = mean_first_passage_time(&well, diffusion, -1.0, 0.0) / eta;
        assert!(
            (steps / continuous - 1.0).abs() < 0.02,
            "{steps} vs {continuous}"
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(discrete_mean_exit_steps(|x| x, 0.0, -1.0, 1.0, 0.0).is_none());
        assert!(discrete_mean_exit_steps(|x| x, 1.0, 1.0, -1.0, 0.0).is_none());
        assert!(discrete_mean_exit_steps(|x| x, 1.0, -1.0, 1.0, 2.0).is_none());
        assert!(discrete_mean_exit_steps(|x| x, f64::NAN, -1.0, 1.0, 0.0).is_none());
    }
}
