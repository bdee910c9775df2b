//! What C6 measures at a point where training looks converged: how large the gradient still
//! is, layer by layer, and where it points in the Hessian's eigenbasis.

use faer::{Mat, Side};

use super::hessian::Spectrum;
use super::mlp::Mlp;

/// The gradient of one layer (weights and biases together).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerGradient {
    /// Euclidean norm.
    pub norm: f64,
    /// Root mean square per parameter, `norm/√count`: comparable across layers of different
    /// sizes (the essay's "output layer" claim is about this).
    pub rms: f64,
}

/// Norm and per-parameter RMS of each layer's part of `gradient`.
///
/// ```
/// use stuck::nets::{Activation, Loss, Mlp, layer_gradients};
/// let net = Mlp::new(&[2, 1, 1], Activation::Tanh, Loss::SquaredError, 0.0);
/// // Layer 0: w (2) and b (1); layer 1: w (1) and b (1).
/// let g = layer_gradients(&net, &[3.0, 0.0, 4.0, 1.0, 1.0]);
/// assert_eq!(g[0].norm, 5.0);
/// assert!((g[1].rms - 1.0).abs() < 1e-15);
/// ```
pub fn layer_gradients(net: &Mlp, gradient: &[f64]) -> Vec<LayerGradient> {
    net.layers()
        .iter()
        .map(|l| {
            let part = gradient[l.weights.start..l.biases.end].iter();
            let squares: f64 = part.map(|g| g * g).sum();
            let count = (l.biases.end - l.weights.start) as f64;
            LayerGradient {
                norm: squares.sqrt(),
                rms: (squares / count).sqrt(),
            }
        })
        .collect()
}

/// Shares of `‖g‖²` in three eigenspaces of the Hessian (Gur-Ari, Roberts & Dyer,
/// arXiv:1812.04754, 2018: during training the gradient concentrates in the top-k space,
/// k = number of classes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradientShares {
    /// In the span of the k largest eigenvalues.
    pub top: f64,
    /// In the span of eigenvalues with `|λ| ≤ τ λ_max`.
    pub near_null: f64,
    /// In the span of eigenvalues `λ < −τ λ_max`.
    pub negative: f64,
}

/// The Hessian's spectrum and the gradient's place in its eigenbasis.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvatureAudit {
    /// Eigenvalues, ascending.
    pub spectrum: Spectrum,
    /// Shares of ‖g‖² (with `top_k` and `tau` as given).
    pub shares: GradientShares,
}

/// Eigen-decomposes the column-major symmetric `p × p` `hessian` (faer) and splits `‖g‖²` by
/// eigenspace: `c = Uᵀg`, share of a set S = `Σ_{i∈S} cᵢ² / ‖g‖²`. `tau` is relative to
/// `λ_max`. `None` if the solver fails or the gradient is zero.
pub fn audit_curvature(
    hessian: &[f64],
    p: usize,
    gradient: &[f64],
    top_k: usize,
    tau: f64,
) -> Option<CurvatureAudit> {
    let matrix = Mat::from_fn(p, p, |i, j| hessian[i + j * p]);
    let eigen = matrix.self_adjoint_eigen(Side::Lower).ok()?;
    let (u, s) = (eigen.U(), eigen.S());
    let mut pairs: Vec<(f64, f64)> = (0..p)
        .map(|j| {
            let c: f64 = (0..p).map(|i| u[(i, j)] * gradient[i]).sum();
            (s[j], c * c)
        })
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = gradient.iter().map(|g| g * g).sum();
    if total <= 0.0 || !total.is_finite() {
        return None;
    }
    let top_value = pairs.last().map_or(0.0, |x| x.0);
    let threshold = tau * top_value.abs();
    let share = |keep: &dyn Fn(usize, f64) -> bool| {
        pairs
            .iter()
            .enumerate()
            .filter(|(i, (l, _))| keep(*i, *l))
            .map(|(_, (_, c2))| c2)
            .sum::<f64>()
            / total
    };
    let shares = GradientShares {
        top: share(&|i, _| i + top_k >= p),
        near_null: share(&|_, l| l.abs() <= threshold),
        negative: share(&|_, l| l < -threshold),
    };
    Some(CurvatureAudit {
        spectrum: Spectrum {
            eigenvalues: pairs.iter().map(|x| x.0).collect(),
        },
        shares,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rotated diagonal matrix with known eigenpairs: the shares are the squared
    /// coordinates of g in that basis.
    #[test]
    fn shares_follow_the_eigenbasis() {
        // H = R diag(−1, 0, 2, 5) Rᵀ with R a rotation by 30° in the (0, 3) plane.
        let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
        let r = [
            [c, 0.0, 0.0, -s],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [s, 0.0, 0.0, c],
        ];
        let d = [-1.0, 0.0, 2.0, 5.0];
        let mut h = vec![0.0; 16];
        for i in 0..4 {
            for j in 0..4 {
                h[i + 4 * j] = (0..4).map(|k| r[i][k] * d[k] * r[j][k]).sum();
            }
        }
        // g = 1·(eigenvector of −1) + 2·(of 0) + 2·(of 5): ‖g‖² = 9.
        let g: Vec<f64> = (0..4)
            .map(|i| r[i][0] + 2.0 * r[i][1] + 2.0 * r[i][3])
            .collect();
        let audit = audit_curvature(&h, 4, &g, 1, 1e-3).unwrap();
        assert!((audit.spectrum.min() + 1.0).abs() < 1e-12);
        assert!((audit.shares.top - 4.0 / 9.0).abs() < 1e-12);
        assert!((audit.shares.near_null - 4.0 / 9.0).abs() < 1e-12);
        assert!((audit.shares.negative - 1.0 / 9.0).abs() < 1e-12);
    }
}
