//! The dense Hessian of a network's loss from P Hessian-vector products, and its spectrum.

use faer::{Mat, Side};
use rayon::prelude::*;

use super::data::Dataset;
use super::mlp::Mlp;

/// The Hessian at `theta`, column j = `H e_j` by the R-operator, symmetrised as `(H + Hᵀ)/2`
/// (the two halves agree to rounding; the test bounds their difference). Columns are
/// computed in parallel on the current rayon pool, each worker with its own workspace;
/// every column is a deterministic function of `theta`, so the result does not depend on the
/// number of threads. Returned column-major, `P × P`.
pub fn dense_hessian(net: &Mlp, theta: &[f64], data: &Dataset) -> Vec<f64> {
    let p = net.parameters();
    let mut hessian = vec![0.0; p * p];
    hessian.par_chunks_mut(p).enumerate().for_each_init(
        || {
            let mut ws = net.workspace(data.examples());
            let mut gradient = vec![0.0; p];
            net.loss_and_gradient(theta, data, &mut ws, &mut gradient);
            (ws, vec![0.0; p])
        },
        |(ws, unit), (j, column)| {
            unit[j] = 1.0;
            net.hessian_vector(theta, data, ws, unit, column);
            unit[j] = 0.0;
        },
    );
    for j in 0..p {
        for i in 0..j {
            let mean = 0.5 * (hessian[i + j * p] + hessian[j + i * p]);
            hessian[i + j * p] = mean;
            hessian[j + i * p] = mean;
        }
    }
    hessian
}

/// The number of eigenvalues of the column-major symmetric `n × n` matrix `m` below `−τ`,
/// without computing them: the inertia of `m + τI` from its Bunch–Kaufman factorisation
/// `P(m + τI)Pᵀ = LBLᵀ` (faer), whose block-diagonal B has, by Sylvester's law of inertia,
/// as many negative eigenvalues as `m + τI` (a 2×2 block with negative determinant has one,
/// else both or none by the sign of its trace). About a quarter of the work of the
/// eigenvalues (`n³/3` flops against `≈ 4n³/3`). A singular `m + τI` (an eigenvalue exactly
/// at `−τ`) gives a zero pivot, counted as not negative.
///
/// ```
/// use stuck::nets::index_by_inertia;
/// // Eigenvalues 1 and −3 (the matrix [[−1, 2], [2, −1]]).
/// let m = [-1.0, 2.0, 2.0, -1.0];
/// assert_eq!(index_by_inertia(&m, 2, 0.0), 1);
/// assert_eq!(index_by_inertia(&m, 2, 4.0), 0);
/// ```
pub fn index_by_inertia(m: &[f64], n: usize, tau: f64) -> usize {
    let shifted = Mat::from_fn(n, n, |i, j| m[i + j * n] + if i == j { tau } else { 0.0 });
    let factor = shifted.lblt(Side::Lower);
    let (diag, sub) = (factor.B_diag(), factor.B_subdiag());
    let mut negative = 0;
    let mut i = 0;
    while i < n {
        if i + 1 < n && sub[i] != 0.0 {
            let (a, b, c) = (diag[i], sub[i], diag[i + 1]);
            negative += if a * c - b * b < 0.0 {
                1
            } else if a + c < 0.0 {
                2
            } else {
                0
            };
            i += 2;
        } else {
            negative += usize::from(diag[i] < 0.0);
            i += 1;
        }
    }
    negative
}

/// Eigenvalues of a symmetric matrix, ascending, and what is read off them.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    /// Eigenvalues in ascending order.
    pub eigenvalues: Vec<f64>,
}

impl Spectrum {
    /// The spectrum of the column-major symmetric `n × n` matrix `m` (faer's self-adjoint
    /// eigenvalue solver on the lower triangle); `None` if it does not converge.
    ///
    /// ```
    /// use stuck::nets::Spectrum;
    /// let s = Spectrum::of(&[2.0, 1.0, 1.0, 2.0], 2).unwrap();
    /// assert!((s.eigenvalues[0] - 1.0).abs() < 1e-12 && (s.eigenvalues[1] - 3.0).abs() < 1e-12);
    /// ```
    pub fn of(m: &[f64], n: usize) -> Option<Self> {
        let matrix = Mat::from_fn(n, n, |i, j| m[i + j * n]);
        let mut eigenvalues = matrix.self_adjoint_eigenvalues(Side::Lower).ok()?;
        eigenvalues.sort_by(f64::total_cmp);
        Some(Spectrum { eigenvalues })
    }

    /// The smallest eigenvalue.
    pub fn min(&self) -> f64 {
        self.eigenvalues.first().copied().unwrap_or(f64::NAN)
    }

    /// The largest eigenvalue.
    pub fn max(&self) -> f64 {
        self.eigenvalues.last().copied().unwrap_or(f64::NAN)
    }

    /// The index at threshold τ: the number of eigenvalues below `−τ`.
    pub fn index(&self, tau: f64) -> usize {
        self.eigenvalues.partition_point(|&l| l < -tau)
    }

    /// The number of outliers above the bulk: among the `window` largest positive
    /// eigenvalues `v₁ < … < v_w`, the bulk ends at the largest ratio gap `v_{i+1}/v_i`, and
    /// the outliers are the `w − i` eigenvalues above it (0 with fewer than two positive
    /// eigenvalues). Sagun, Evci, Güney, Dauphin & Bottou (arXiv:1706.04454, 2017) find about
    /// one outlier per class at the end of training, so `window = 4k` for k classes leaves
    /// room for them.
    ///
    /// ```
    /// use stuck::nets::Spectrum;
    /// let s = Spectrum { eigenvalues: vec![-0.1, 0.01, 0.02, 0.03, 5.0, 9.0] };
    /// assert_eq!(s.outliers(10), 2);
    /// ```
    pub fn outliers(&self, window: usize) -> usize {
        let positive = &self.eigenvalues[self.eigenvalues.partition_point(|&l| l <= 0.0)..];
        let top = &positive[positive.len().saturating_sub(window)..];
        top.windows(2)
            .enumerate()
            .map(|(i, pair)| (i, pair[1] / pair[0]))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(0, |(i, _)| top.len() - 1 - i)
    }
}
