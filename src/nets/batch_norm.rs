//! Batch normalisation of a hidden layer (Ioffe & Szegedy, ICML 2015, arXiv:1502.03167) with
//! its gradient and its R-operator, for [`super::Mlp`].
//!
//! Unit i of a layer sees the pre-activations `u_ik` of the examples k = 1..n (one row of a
//! column-major `units × n` matrix) and outputs
//! `z_ik = γ_i x̂_ik + β_i`, `x̂_ik = (u_ik − μ_i)/s_i`, `μ_i = mean_k u_ik`,
//! `s_i = √(mean_k (u_ik − μ_i)² + ε)`.
//! In **train mode** μ and s are the statistics of the examples passed in (the whole training
//! set for full-batch GD, the minibatch for SGD), so the loss couples the examples and its
//! derivatives go through μ and s; in **eval mode** they are frozen [`Statistics`] (e.g. of the
//! whole training set) and the layer is an affine map per unit.
//!
//! Gradient, with `g_ik = γ_i ∂ℓ/∂z_ik` (the compact form of Ioffe & Szegedy's eq. on p. 4):
//! `∂ℓ/∂γ_i = Σ_k ∂ℓ/∂z_ik x̂_ik`, `∂ℓ/∂β_i = Σ_k ∂ℓ/∂z_ik`,
//! `∂ℓ/∂u_ik = (g_ik − mean_k g_ik − x̂_ik mean_k g_ik x̂_ik)/s_i`.
//!
//! R-operator along `(V_u, V_γ, V_β)` (directional derivatives, as in Pearlmutter 1994), with
//! `ρ_i = R s_i/s_i = mean_k(x̂_ik R u_ik)/s_i`:
//! `R x̂ = (R u − mean R u)/s − x̂ ρ`, `R z = V_γ x̂ + γ R x̂ + V_β`; backward, with
//! `R g = V_γ ∂ℓ/∂z + γ R ∂ℓ/∂z`, `m₁ = mean g`, `m₂ = mean g x̂`:
//! `R ∂ℓ/∂u = −ρ ∂ℓ/∂u + (R g − R m₁ − R x̂ m₂ − x̂ R m₂)/s` with `R m₁ = mean R g`,
//! `R m₂ = mean(R g x̂ + g R x̂)`; `R ∂ℓ/∂γ = Σ_k (R ∂ℓ/∂z x̂ + ∂ℓ/∂z R x̂)`,
//! `R ∂ℓ/∂β = Σ_k R ∂ℓ/∂z`.

/// Frozen per-unit statistics of every normalised layer, for eval mode: `mean[l][i]` and
/// `inv_std[l][i] = 1/s_i` (empty for layers without normalisation).
#[derive(Debug, Clone, PartialEq)]
pub struct Statistics {
    pub(super) mean: Vec<Vec<f64>>,
    pub(super) inv_std: Vec<Vec<f64>>,
}

/// The buffers of one normalised layer on n examples.
#[derive(Debug, Clone, Default)]
pub(super) struct NormBuffers {
    /// `x̂`, `units × n`.
    pub xhat: Vec<f64>,
    /// `μ_i`.
    pub mean: Vec<f64>,
    /// `1/s_i`.
    pub inv_std: Vec<f64>,
    /// `∂ℓ/∂u`, `units × n`.
    pub du: Vec<f64>,
    /// `R x̂`, `units × n`.
    pub rxhat: Vec<f64>,
    /// `ρ_i = R s_i / s_i`.
    pub rho: Vec<f64>,
    /// `R ∂ℓ/∂u`, `units × n`.
    pub rdu: Vec<f64>,
    /// One value per unit, for intermediate row means.
    pub scratch: Vec<f64>,
}

impl NormBuffers {
    pub fn new(units: usize, examples: usize) -> Self {
        let matrix = || vec![0.0; units * examples];
        NormBuffers {
            xhat: matrix(),
            mean: vec![0.0; units],
            inv_std: vec![0.0; units],
            du: matrix(),
            rxhat: matrix(),
            rho: vec![0.0; units],
            rdu: matrix(),
            scratch: vec![0.0; units],
        }
    }
}

/// Row means of the column-major `rows × n` matrix `m` written to `out`.
fn row_means(m: &[f64], rows: usize, out: &mut [f64]) {
    out.iter_mut().for_each(|o| *o = 0.0);
    let columns = m.len() / rows;
    for column in m.chunks(rows) {
        out.iter_mut().zip(column).for_each(|(o, v)| *o += v);
    }
    out.iter_mut().for_each(|o| *o /= columns as f64);
}

/// Row means of the elementwise product of two `rows × n` matrices.
fn row_product_means(a: &[f64], b: &[f64], rows: usize, out: &mut [f64]) {
    out.iter_mut().for_each(|o| *o = 0.0);
    let columns = a.len() / rows;
    for (ca, cb) in a.chunks(rows).zip(b.chunks(rows)) {
        for ((o, x), y) in out.iter_mut().zip(ca).zip(cb) {
            *o += x * y;
        }
    }
    out.iter_mut().for_each(|o| *o /= columns as f64);
}

/// Forward: `z` holds `u` on entry and `γ x̂ + β` on exit; `buffers` keep x̂, μ and 1/s. With
/// `frozen = Some((μ, 1/s))` (eval mode) those statistics are used instead of the batch's.
pub(super) fn forward(
    z: &mut [f64],
    gamma: &[f64],
    beta: &[f64],
    epsilon: f64,
    frozen: Option<(&[f64], &[f64])>,
    buffers: &mut NormBuffers,
) {
    let units = gamma.len();
    match frozen {
        Some((mean, inv_std)) => {
            buffers.mean.copy_from_slice(mean);
            buffers.inv_std.copy_from_slice(inv_std);
        }
        None => {
            row_means(z, units, &mut buffers.mean);
            buffers.inv_std.iter_mut().for_each(|v| *v = 0.0);
            for column in z.chunks(units) {
                for ((v, u), m) in buffers.inv_std.iter_mut().zip(column).zip(&buffers.mean) {
                    *v += (u - m) * (u - m);
                }
            }
            let n = (z.len() / units) as f64;
            buffers
                .inv_std
                .iter_mut()
                .for_each(|v| *v = 1.0 / (*v / n + epsilon).sqrt());
        }
    }
    for (zc, xc) in z.chunks_mut(units).zip(buffers.xhat.chunks_mut(units)) {
        for i in 0..units {
            xc[i] = (zc[i] - buffers.mean[i]) * buffers.inv_std[i];
            zc[i] = gamma[i] * xc[i] + beta[i];
        }
    }
}

/// Backward: from `delta = ∂ℓ/∂z` writes `∂ℓ/∂γ`, `∂ℓ/∂β` and `buffers.du = ∂ℓ/∂u`.
pub(super) fn backward(
    delta: &[f64],
    gamma: &[f64],
    grad_gamma: &mut [f64],
    grad_beta: &mut [f64],
    buffers: &mut NormBuffers,
) {
    let units = gamma.len();
    let n = (delta.len() / units) as f64;
    // ∂ℓ/∂γ = n·mean(δ x̂), ∂ℓ/∂β = n·mean(δ).
    row_product_means(delta, &buffers.xhat, units, grad_gamma);
    row_means(delta, units, grad_beta);
    // m₁ = γ mean δ, m₂ = γ mean δx̂ (g = γδ).
    for i in 0..units {
        let (m1, m2) = (gamma[i] * grad_beta[i], gamma[i] * grad_gamma[i]);
        for k in 0..delta.len() / units {
            let j = k * units + i;
            buffers.du[j] = (gamma[i] * delta[j] - m1 - buffers.xhat[j] * m2) * buffers.inv_std[i];
        }
        grad_gamma[i] *= n;
        grad_beta[i] *= n;
    }
}

/// R forward: `rz` holds `R u` on entry and `R z` on exit; writes `R x̂` and ρ (train mode).
pub(super) fn r_forward(
    rz: &mut [f64],
    gamma: &[f64],
    v_gamma: &[f64],
    v_beta: &[f64],
    buffers: &mut NormBuffers,
) {
    let units = gamma.len();
    let NormBuffers {
        xhat,
        inv_std,
        rxhat,
        rho,
        scratch: mean_ru,
        ..
    } = buffers;
    // ρ = mean(x̂ R u)/s: mean x̂ = 0 in train mode, so R μ drops out.
    row_product_means(xhat, rz, units, rho);
    rho.iter_mut()
        .zip(inv_std.iter())
        .for_each(|(r, v)| *r *= v);
    row_means(rz, units, mean_ru);
    let columns = rz.chunks_mut(units).zip(rxhat.chunks_mut(units));
    for ((rzc, rxc), xc) in columns.zip(xhat.chunks(units)) {
        for i in 0..units {
            rxc[i] = (rzc[i] - mean_ru[i]) * inv_std[i] - xc[i] * rho[i];
            rzc[i] = v_gamma[i] * xc[i] + gamma[i] * rxc[i] + v_beta[i];
        }
    }
}

/// R backward: from `delta = ∂ℓ/∂z` and `rdelta = R ∂ℓ/∂z` writes `R ∂ℓ/∂γ`, `R ∂ℓ/∂β` and
/// `buffers.rdu = R ∂ℓ/∂u` (after [`backward`] and [`r_forward`] at the same point).
pub(super) fn r_backward(
    delta: &[f64],
    rdelta: &[f64],
    gamma: &[f64],
    v_gamma: &[f64],
    out_gamma: &mut [f64],
    out_beta: &mut [f64],
    buffers: &mut NormBuffers,
) {
    let units = gamma.len();
    let n = delta.len() / units;
    let NormBuffers {
        xhat,
        inv_std,
        du,
        rxhat,
        rho,
        rdu,
        scratch,
        ..
    } = buffers;
    // R ∂ℓ/∂γ = n·mean(Rδ x̂ + δ R x̂), R ∂ℓ/∂β = n·mean(Rδ).
    row_product_means(rdelta, xhat, units, out_gamma);
    row_product_means(delta, rxhat, units, scratch);
    out_gamma
        .iter_mut()
        .zip(scratch.iter())
        .for_each(|(o, s)| *o = (*o + s) * n as f64);
    row_means(rdelta, units, out_beta);
    // With g = γδ: m₂ = γ mean δx̂; R m₁ = V_γ mean δ + γ mean Rδ;
    // R m₂ = mean(R g x̂ + g R x̂) = V_γ mean δx̂ + γ mean(Rδ x̂) + γ mean(δ R x̂).
    row_product_means(delta, xhat, units, scratch);
    let mean_delta_xhat = scratch;
    for i in 0..units {
        let mut mean_d = 0.0;
        for k in 0..n {
            mean_d += delta[k * units + i];
        }
        mean_d /= n as f64;
        let m2 = gamma[i] * mean_delta_xhat[i];
        let r_m1 = v_gamma[i] * mean_d + gamma[i] * out_beta[i];
        let r_m2 = v_gamma[i] * mean_delta_xhat[i] + gamma[i] * out_gamma[i] / n as f64;
        for k in 0..n {
            let j = k * units + i;
            let rg = v_gamma[i] * delta[j] + gamma[i] * rdelta[j];
            rdu[j] = -rho[i] * du[j] + (rg - r_m1 - rxhat[j] * m2 - xhat[j] * r_m2) * inv_std[i];
        }
    }
    out_beta.iter_mut().for_each(|o| *o *= n as f64);
}
