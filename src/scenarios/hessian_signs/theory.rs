//! The best known predictions for each Hessian model.

use super::model::Model;
use crate::landscape::{goe_2x2_positive_definite_probability, marchenko_pastur_cdf};

/// `θ = ln 3 / 4`, the GOE large-deviation rate of `P(all eigenvalues > 0) ≈ e^{−θn²}`
/// (D. S. Dean & S. N. Majumdar, *PRL* 97, 160201, 2006, and *PRE* 77, 041108, 2008).
pub const GOE_THETA: f64 = 0.274_653_072_167_027_1;

/// The best known `ln P(minimum)` in dimension n, and its source; `None` where no
/// prediction is implemented.
///
/// - coin: `n ln ½`, exact (the article's own model).
/// - GOE (either sampler): 1/2 at n = 1 and `(2 − √2)/4` at n = 2, exact; for n ≥ 3 the
///   leading-order law `−θn²`, which omits O(n) and O(ln n) terms and so is only a guide.
/// - Wigner with ratio r: exact at n = 1 (1/2); otherwise between the article (r → ∞) and
///   GOE (r = 2), no closed form.
/// - Wishart: the limit is 1 if `μ` lies below the Marchenko–Pastur edge `(1 − √γ)²` and 0
///   above; no finite-n value is implemented.
/// - Gaussian field: exact 1/2 at n = 1.
pub fn ln_p_min(model: &Model, n: u64) -> Option<(f64, &'static str)> {
    let half = 0.5f64.ln();
    match (model, n) {
        (Model::Coin, _) => Some((n as f64 * half, "exact 2^-n")),
        (Model::Goe | Model::GoeDense, 1) => Some((half, "exact 1/2")),
        (Model::Goe | Model::GoeDense, 2) => Some((
            goe_2x2_positive_definite_probability().ln(),
            "exact (2-sqrt2)/4",
        )),
        (Model::Goe | Model::GoeDense, _) => Some((
            -GOE_THETA * (n * n) as f64,
            "leading order -theta n^2, theta = ln3/4 (Dean-Majumdar 2006)",
        )),
        (Model::Wigner { .. } | Model::GaussianField, 1) => Some((half, "exact 1/2")),
        _ => None,
    }
}

/// The predicted mean index (number of negative eigenvalues), with its source.
pub fn index_mean(model: &Model, n: u64) -> Option<f64> {
    match model {
        Model::Coin | Model::Goe | Model::GoeDense | Model::Wigner { .. } => Some(n as f64 / 2.0),
        Model::Wishart { aspect, shift } => Some(n as f64 * marchenko_pastur_cdf(*aspect, *shift)),
        Model::GaussianField => None,
    }
}

/// The predicted index variance: `n/4` for the coin model (Binomial(n, ½)); for GOE the
/// leading term `ln n / π²` of `Var ≈ ln n/(βπ²) + C`, β = 1 (S. N. Majumdar, C. Nadal,
/// A. Scardicchio & P. Vivo, *PRL* 103, 220603, 2009; *PRE* 83, 041105, 2011; the constant C
/// is known only for β = 2).
pub fn index_variance(model: &Model, n: u64) -> Option<f64> {
    match model {
        Model::Coin => Some(n as f64 / 4.0),
        Model::Goe | Model::GoeDense if n > 1 => {
            Some((n as f64).ln() / (std::f64::consts::PI.powi(2)))
        }
        _ => None,
    }
}

/// A qualitative prediction where no finite-n value is implemented: for Wishart, the
/// Marchenko–Pastur lower edge `(1 − √γ)²` decides whether P(min) → 1 or → 0 as n grows.
pub fn limit_description(model: &Model) -> Option<String> {
    match model {
        // With m ≥ n samples XᵀX/m is positive definite almost surely: no shift, no saddle.
        Model::Wishart { aspect, shift } if *aspect <= 1.0 && *shift <= 0.0 => Some(format!(
            "P = 1 for every n: X^T X/m > 0 when m >= n, and shift {shift} <= 0"
        )),
        Model::Wishart { aspect, shift } => {
            let edge = (1.0 - aspect.sqrt()).powi(2);
            let limit = if *shift < edge { 1 } else { 0 };
            Some(format!(
                "P -> {limit} as n grows: shift {shift} vs Marchenko-Pastur edge {edge:.3}"
            ))
        }
        _ => None,
    }
}
