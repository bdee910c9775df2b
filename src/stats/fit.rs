//! Weighted linear least squares with standard errors.

use nalgebra::{DMatrix, DVector};

use super::StatsError;

/// The result of a weighted least-squares fit `y ≈ Xβ`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearFit {
    /// Fitted coefficients β, one per column of the design matrix.
    pub coefficients: Vec<f64>,
    /// Standard errors of β: the square roots of the diagonal of [`LinearFit::covariance`].
    pub standard_errors: Vec<f64>,
    /// Covariance matrix of β, `s²(XᵀWX)⁻¹` with `s` = [`LinearFit::misfit_scale`], row by
    /// row.
    pub covariance: Vec<Vec<f64>>,
    /// `s = max(1, √(χ²/dof))` (1 when dof = 0): the factor by which the errors were inflated
    /// because the points scatter more than their weights allow (the Birge ratio; Particle
    /// Data Group, *Review of Particle Physics*, Introduction §5.2.2). With `s = 1` the errors
    /// assume the weights are the inverse variances of the observations.
    pub misfit_scale: f64,
    /// Weighted residual sum of squares `Σ wᵢ (yᵢ − xᵢᵀβ)²`, a χ² with `dof` degrees of
    /// freedom when the model and the weights are right.
    pub chi_square: f64,
    /// Degrees of freedom `rows − columns`.
    pub dof: usize,
}

/// Fits `y ≈ Xβ` minimising `Σ wᵢ (yᵢ − xᵢᵀβ)²`.
///
/// Normal equations `β = (XᵀWX)⁻¹ XᵀWy`, solved by Cholesky; with `wᵢ = 1/σᵢ²` the
/// covariance of β is `(XᵀWX)⁻¹` (e.g. Press et al., *Numerical Recipes*, 3rd ed., §15.4),
/// multiplied by `χ²/dof` when that exceeds 1, so a fit that does not describe its points
/// reports errors that cover its misfit. `rows` holds the regressors of each observation.
///
/// ```
/// use stuck::stats::weighted_least_squares;
/// // y = 1 + 2x exactly
/// let rows = vec![vec![1.0, 0.0], vec![1.0, 1.0], vec![1.0, 2.0]];
/// let fit = weighted_least_squares(&rows, &[1.0, 3.0, 5.0], &[1.0, 1.0, 1.0]).unwrap();
/// assert!((fit.coefficients[1] - 2.0).abs() < 1e-12);
/// ```
pub fn weighted_least_squares(
    rows: &[Vec<f64>],
    y: &[f64],
    weights: &[f64],
) -> Result<LinearFit, StatsError> {
    let n = rows.len();
    let p = rows.first().map_or(0, Vec::len);
    if p == 0 || n < p || y.len() != n || weights.len() != n || rows.iter().any(|r| r.len() != p) {
        return Err(StatsError::IllPosedFit(format!(
            "{n} observations for {p} coefficients"
        )));
    }
    if weights.iter().any(|w| !(w.is_finite() && *w > 0.0)) || y.iter().any(|v| !v.is_finite()) {
        return Err(StatsError::IllPosedFit(
            "weights must be positive and values finite".into(),
        ));
    }
    let x = DMatrix::from_fn(n, p, |i, j| rows[i][j]);
    let w = DVector::from_column_slice(weights);
    let yv = DVector::from_column_slice(y);
    let xtw = DMatrix::from_fn(p, n, |j, i| x[(i, j)] * w[i]);
    let normal = &xtw * &x;
    let cholesky = normal
        .cholesky()
        .ok_or_else(|| StatsError::IllPosedFit("design matrix is rank deficient".into()))?;
    let beta = cholesky.solve(&(&xtw * &yv));
    let covariance = cholesky.inverse();
    let residuals = &yv - &x * &beta;
    let chi_square: f64 = residuals.iter().zip(weights).map(|(r, w)| w * r * r).sum();
    let dof = n - p;
    let misfit_scale = if dof > 0 {
        (chi_square / dof as f64).sqrt().max(1.0)
    } else {
        1.0
    };
    let covariance = covariance * misfit_scale.powi(2);
    Ok(LinearFit {
        coefficients: beta.iter().copied().collect(),
        standard_errors: (0..p).map(|j| covariance[(j, j)].sqrt()).collect(),
        covariance: (0..p)
            .map(|i| (0..p).map(|j| covariance[(i, j)]).collect())
            .collect(),
        chi_square,
        dof,
        misfit_scale,
    })
}

impl LinearFit {
    /// `χ²/dof` (NaN when dof = 0).
    pub fn reduced_chi_square(&self) -> f64 {
        if self.dof == 0 {
            f64::NAN
        } else {
            self.chi_square / self.dof as f64
        }
    }

    /// What a report says about the fit's quality: `chi2/dof = …`, and that the errors were
    /// scaled by `√(χ²/dof)` when they were.
    pub fn quality(&self) -> String {
        if self.dof == 0 {
            "exact fit, no degrees of freedom left".into()
        } else if self.misfit_scale > 1.0 {
            format!(
                "chi2/dof = {:.2}; errors scaled by sqrt(chi2/dof) = {:.2}",
                self.reduced_chi_square(),
                self.misfit_scale
            )
        } else {
            format!("chi2/dof = {:.2}", self.reduced_chi_square())
        }
    }

    /// Prediction `xᵀβ` at regressors `x` and its standard error `√(xᵀ Σ x)`.
    pub fn predict(&self, x: &[f64]) -> (f64, f64) {
        let value = x.iter().zip(&self.coefficients).map(|(a, b)| a * b).sum();
        let variance: f64 = (0..x.len())
            .map(|i| {
                (0..x.len())
                    .map(|j| x[i] * self.covariance[i][j] * x[j])
                    .sum::<f64>()
            })
            .sum();
        (value, variance.max(0.0).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn straight_line_with_known_errors() {
        // Textbook case: unweighted line through 5 points; slope se = σ/√Sxx with σ = 1.
        let xs = [0.0, 1.0, 2.0, 3.0, 4.0];
        let ys = [1.1, 2.9, 5.2, 6.8, 9.1];
        let rows: Vec<Vec<f64>> = xs.iter().map(|&x| vec![1.0, x]).collect();
        let fit = weighted_least_squares(&rows, &ys, &[1.0; 5]).unwrap();
        // Closed form: slope = Sxy/Sxx = 19.9/10, intercept = ȳ − slope·x̄.
        assert!((fit.coefficients[1] - 1.99).abs() < 1e-12);
        assert!((fit.coefficients[0] - (5.02 - 1.99 * 2.0)).abs() < 1e-12);
        // Residuals 0.06, −0.13, 0.18, −0.21, 0.10: χ² = 0.107 < dof, so no scaling.
        assert!((fit.standard_errors[1] - (1.0f64 / 10.0).sqrt()).abs() < 1e-12);
        assert_eq!(fit.dof, 3);
        assert_eq!(fit.misfit_scale, 1.0);
    }

    #[test]
    fn misfit_inflates_the_errors_by_the_birge_ratio() {
        // The same points with σ = 0.01: χ² = 0.107/10⁻⁴ = 1070 over 3 dof, so the slope's
        // error 0.01/√10 is multiplied by √(1310/3).
        let xs = [0.0, 1.0, 2.0, 3.0, 4.0];
        let ys = [1.1, 2.9, 5.2, 6.8, 9.1];
        let rows: Vec<Vec<f64>> = xs.iter().map(|&x| vec![1.0, x]).collect();
        let fit = weighted_least_squares(&rows, &ys, &[1e4; 5]).unwrap();
        let scale = (fit.chi_square / 3.0).sqrt();
        assert!((fit.chi_square - 1070.0).abs() < 1e-6, "{}", fit.chi_square);
        assert!((fit.misfit_scale - scale).abs() < 1e-12);
        assert!((fit.standard_errors[1] - 0.01 / 10f64.sqrt() * scale).abs() < 1e-12);
        assert!(fit.quality().contains("scaled"));
    }

    #[test]
    fn rejects_rank_deficient_and_bad_input() {
        let rows = vec![vec![1.0, 2.0], vec![2.0, 4.0]];
        assert!(weighted_least_squares(&rows, &[1.0, 2.0], &[1.0, 1.0]).is_err());
        let rows = vec![vec![1.0], vec![1.0]];
        assert!(weighted_least_squares(&rows, &[1.0, f64::NAN], &[1.0, 1.0]).is_err());
        assert!(weighted_least_squares(&rows, &[1.0, 1.0], &[1.0, 0.0]).is_err());
        assert!(weighted_least_squares(&[], &[], &[]).is_err());
    }
}
