//! The audit's answer: where a network stands, by stated rules, and what the suite measured
//! about that situation.

use serde::Serialize;

/// Relative threshold τ: eigenvalues with `|λ| ≤ τ λ_max` are "near null", the index counts
/// those below `−τ λ_max` (one of `convergence-audit`'s four thresholds; the CSV gives all
/// four).
pub const TAU: f64 = 1e-3;
/// The search's end is the point's own critical point when the loss moved by at most this
/// fraction of the loss on the way (the point is then within 0.1 % of the critical loss).
pub const SAME_LOSS: f64 = 1e-3;
/// A non-critical point is on a plateau when at least this share of `‖g‖²` lies in the
/// near-null eigenspace: it descends along directions of no curvature, so steps stay small
/// (the "gradient-flat" picture of Frye et al. 2021).
pub const PLATEAU_SHARE: f64 = 0.5;

/// Where the network stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "class", rename_all = "kebab-case")]
pub enum PointClass {
    /// At a critical point with no direction of negative curvature beyond `−τλ_max`.
    Minimum,
    /// At a critical point with `index` directions of negative curvature.
    Saddle {
        /// Eigenvalues below `−τ λ_max`.
        index: usize,
    },
    /// Not at a critical point, the gradient mostly in near-null directions.
    Plateau,
    /// Not at a critical point, the gradient in curved directions.
    NotCritical,
}

impl PointClass {
    /// A short name for tables.
    pub fn name(self) -> String {
        match self {
            PointClass::Minimum => "minimum".into(),
            PointClass::Saddle { index } => format!("saddle of index {index}"),
            PointClass::Plateau => "plateau".into(),
            PointClass::NotCritical => "not a critical point".into(),
        }
    }
}

/// What decides the class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// The search for the nearest critical point converged.
    pub search_converged: bool,
    /// `|L(end) − L(θ)| / max(|L(θ)|, 10⁻¹²)` of the search.
    pub loss_change: f64,
    /// Eigenvalues of H at θ below `−τ λ_max`.
    pub index: usize,
    /// Share of `‖g‖²` in the eigenspace `|λ| ≤ τ λ_max` (NaN when not computed).
    pub near_null_share: f64,
}

/// The rules, in order: (1) the search for the nearest critical point converges and the loss
/// moves by at most [`SAME_LOSS`] on the way → at a critical point: a minimum when H has no
/// eigenvalue below `−τ λ_max`, else a saddle of that index; (2) otherwise a plateau when at
/// least [`PLATEAU_SHARE`] of `‖g‖²` lies in the near-null eigenspace; (3) otherwise not a
/// critical point.
///
/// ```
/// use stuck::audit::{Evidence, PointClass, classify};
/// let at = |converged, change, index, share| Evidence {
///     search_converged: converged, loss_change: change, index, near_null_share: share,
/// };
/// assert_eq!(classify(&at(true, 1e-9, 0, 0.1)), PointClass::Minimum);
/// assert_eq!(classify(&at(true, 1e-9, 3, 0.1)), PointClass::Saddle { index: 3 });
/// assert_eq!(classify(&at(true, 0.2, 0, 0.9)), PointClass::Plateau);
/// assert_eq!(classify(&at(false, 0.0, 0, 0.1)), PointClass::NotCritical);
/// ```
pub fn classify(evidence: &Evidence) -> PointClass {
    if evidence.search_converged && evidence.loss_change <= SAME_LOSS {
        if evidence.index == 0 {
            PointClass::Minimum
        } else {
            PointClass::Saddle {
                index: evidence.index,
            }
        }
    } else if evidence.near_null_share >= PLATEAU_SHARE {
        PointClass::Plateau
    } else {
        PointClass::NotCritical
    }
}

/// What the suite's own scenarios measured about this situation, and what to try.
pub fn advice(class: PointClass, lambda_min: f64, lambda_max: f64) -> String {
    match class {
        PointClass::Minimum => format!(
            "A minimum: the gradient vanishes and no direction curves down (λ_min = {lambda_min:.3e}, \
             λ_max = {lambda_max:.3e}). If its loss is too high, only a restart, a wider network or \
             another loss helps; `stuck critical-census` maps which losses minima sit at for small \
             networks on the digits, and `stuck hessian-signs` shows that at random, high-loss \
             critical points a minimum is exponentially rare (0.5^n and below)."
        ),
        PointClass::Saddle { index } => format!(
            "A saddle with {index} downhill direction(s), the steepest of curvature {lambda_min:.3e}. \
             Gradient descent started exactly here stays, but any noise leaves: `stuck saddle-escape` \
             measures escape times of about ln(1/distance)/(η|λ_min|) steps for noisy GD, perturbed GD \
             and SGD (C4). Keep minibatch noise on, or add a small perturbation; a lower learning rate \
             slows the escape."
        ),
        PointClass::Plateau => "A plateau, not a minimum: the gradient is not zero but points almost only \
             along directions of no curvature, so each step gains little. `stuck plateau-crossing` \
             measures crossing times growing like 1/(η·slope) for GD and momentum but not for Adam, \
             whose steps do not shrink with the slope (C7); `stuck degenerate-trap` shows the same for \
             degenerate critical points (C8). Try an adaptive optimizer, a larger learning rate, batch \
             normalisation or another initialisation."
            .into(),
        PointClass::NotCritical => "Not a critical point: the gradient points along curved directions, \
             and the search for the nearest critical point moved the loss on the way (or did not \
             converge). Training has not converged; `stuck convergence-audit` finds this at most \
             apparent convergences of networks on the digits (C6): the loss levels off long before \
             the gradient vanishes. Train longer, lower the learning rate at a plateau of the loss, \
             or check for a learning rate too large for the curvature (η λ_max > 2)."
            .into(),
    }
}
