//! The dense Hessian of a network's loss from P Hessian-vector products, and its spectrum.

use faer::{Mat, MatRef, Par, Side, prelude::default};
use rayon::prelude::*;

use super::data::Dataset;
use super::mlp::Mlp;
use super::unit_column::first_computed_row;

/// The Hessian at `theta`, column-major `P × P`.
///
/// Without batch normalisation column j is `H e_j` from an R-operator specialised to unit
/// directions (`unit_column.rs`), which computes only the rows from j's own block of its
/// layer on; the rows below are copied from the columns that computed them (H is
/// symmetric), and the entries computed from both sides are symmetrised as `(H + Hᵀ)/2` (the two
/// halves agree to rounding; the tests bound their difference). With batch normalisation
/// every column is a general Hessian-vector product along `e_j`, symmetrised the same way.
/// Blocks of columns are computed in parallel on the current rayon pool, each with its own
/// workspace; every column is a deterministic function of `theta`, so the result does not
/// depend on the number of threads.
pub fn dense_hessian(net: &Mlp, theta: &[f64], data: &Dataset) -> Vec<f64> {
    let p = net.parameters();
    let mut hessian = vec![0.0; p * p];
    let specialised = net.batch_norm().is_none();
    // Contiguous blocks of columns, one workspace (and one gradient pass) per block: about
    // eight blocks per thread balance the load without repeating the set-up per column.
    let block = p.div_ceil(8 * rayon::current_num_threads()).max(1);
    hessian
        .par_chunks_mut(p * block)
        .enumerate()
        .for_each(|(b, columns)| {
            let mut ws = net.workspace(data.examples());
            let mut unit = vec![0.0; p];
            net.loss_and_gradient(theta, data, &mut ws, &mut unit);
            unit.fill(0.0);
            for (c, column) in columns.chunks_mut(p).enumerate() {
                let j = b * block + c;
                if specialised {
                    net.hessian_unit_column(theta, data, &mut ws, j, column);
                } else {
                    unit[j] = 1.0;
                    net.hessian_vector(theta, data, &mut ws, &unit, column);
                    unit[j] = 0.0;
                }
            }
        });
    // First computed row of each column (0 for general products).
    let starts: Vec<usize> = (0..p)
        .map(|j| {
            if specialised {
                first_computed_row(net, j)
            } else {
                0
            }
        })
        .collect();
    for j in 0..p {
        for i in 0..j {
            let value = if i < starts[j] {
                hessian[j + i * p]
            } else {
                0.5 * (hessian[i + j * p] + hessian[j + i * p])
            };
            hessian[i + j * p] = value;
            hessian[j + i * p] = value;
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

/// The Hessian thresholds, relative to `λ_max`, at which the suite counts the index: the
/// count of "negative" eigenvalues depends on where rounding and the near-null bulk end, so
/// `convergence-audit`, `critical-census` and `stuck audit` report all four.
pub const INDEX_THRESHOLDS: [f64; 4] = [0.0, 1e-4, 1e-3, 1e-2];

/// Eigenvalues of a symmetric matrix, ascending, and what is read off them.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    /// Eigenvalues in ascending order.
    pub eigenvalues: Vec<f64>,
}

impl Spectrum {
    /// The spectrum of the column-major symmetric `n × n` matrix `m` (faer's self-adjoint
    /// eigenvalue solver on the lower triangle, sequential: the engine runs seeds in parallel,
    /// and a fixed order of operations keeps the result independent of the thread count);
    /// `None` if it does not converge.
    ///
    /// ```
    /// use stuck::nets::Spectrum;
    /// let s = Spectrum::of(&[2.0, 1.0, 1.0, 2.0], 2).unwrap();
    /// assert!((s.eigenvalues[0] - 1.0).abs() < 1e-12 && (s.eigenvalues[1] - 3.0).abs() < 1e-12);
    /// ```
    pub fn of(m: &[f64], n: usize) -> Option<Self> {
        use faer::dyn_stack::{MemBuffer, MemStack};
        use faer::linalg::evd::{self, ComputeEigenvectors};
        let matrix = MatRef::from_column_major_slice(m, n, n);
        let mut values = faer::diag::Diag::<f64>::zeros(n);
        let scratch =
            evd::self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::No, Par::Seq, default());
        evd::self_adjoint_evd(
            matrix,
            values.as_mut(),
            None,
            Par::Seq,
            MemStack::new(&mut MemBuffer::new(scratch)),
            default(),
        )
        .ok()?;
        let mut eigenvalues: Vec<f64> = values.column_vector().iter().copied().collect();
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
