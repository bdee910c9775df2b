//! One column of the Hessian, `H e_j`, by the R-operator specialised to a unit direction:
//! what the general [`Mlp::hessian_vector`] would compute with most of its work on zeros.
//!
//! For `e_j` in layer m (weight `W_m[h, i]` or bias `b_m[h]`) every `R z_l`, `R a_l` with
//! l < m vanishes, and `R z_m` is non-zero in row h only (`a_{m−1}[i, ·]`, or 1 for a bias),
//! so the forward R pass starts at layer m from that row. Backward, `V_W_l = 0` for l ≠ m and
//! the term `δ_l (R a_{l−1})ᵀ` vanishes for l ≤ m. And since H is symmetric, the rows of
//! layers below m are the transposes of entries that the columns of those layers compute: the
//! backward pass stops at layer m. For a one-hidden-layer network the second-layer columns
//! then cost a few small products, and the first-layer ones skip the two largest GEMMs of a
//! general product (`V_W₁ X` and the chain back through `V_W`).

use super::data::Dataset;
use super::mlp::{Mlp, Workspace, chain_r_delta, gemm, row_sums, view};

/// The first row of column j that [`Mlp::hessian_unit_column`] computes: for the weight
/// `W_m[h, i]` the first weight of input i (`W_m[·, i']` with i' < i are rows below j whose
/// entries column `W_m[·, i']` computes), for a bias the layer's first bias.
pub(super) fn first_computed_row(net: &Mlp, j: usize) -> usize {
    let layer = net
        .layers()
        .iter()
        .find(|l| j < l.biases.end)
        .expect("parameter index within the network");
    if layer.weights.contains(&j) {
        let i = (j - layer.weights.start) / layer.outputs;
        layer.weights.start + i * layer.outputs
    } else {
        layer.biases.start
    }
}

impl Mlp {
    /// Writes the rows of `H e_j` from [`first_computed_row`] on into `column`; the rows
    /// below are left untouched (they are `H[j, ·]` of lower columns, by symmetry). Needs
    /// the state of a [`Mlp::loss_and_gradient`] call at `theta` on this workspace, and a
    /// network without batch normalisation.
    pub(super) fn hessian_unit_column(
        &self,
        theta: &[f64],
        data: &Dataset,
        ws: &mut Workspace,
        j: usize,
        column: &mut [f64],
    ) {
        debug_assert!(self.batch_norm().is_none());
        let layers = self.layers();
        let n = data.examples();
        let last = layers.len() - 1;
        let m = layers
            .iter()
            .position(|l| j < l.biases.end)
            .expect("parameter index within the network");
        let layer = &layers[m];
        // Row h of R z_m; for a weight, its input i.
        let (h, unit_input) = if layer.weights.contains(&j) {
            let k = j - layer.weights.start;
            (k % layer.outputs, Some(k / layer.outputs))
        } else {
            (j - layer.biases.start, None)
        };
        // Forward R pass from layer m: R z_m is row h only, and so is R a_m (of which only
        // row h is written and read).
        let source = if m == 0 { &data.inputs } else { &ws.a[m - 1] };
        ws.rz[m].fill(0.0);
        for k in 0..n {
            let at = k * layer.outputs + h;
            ws.rz[m][at] = unit_input.map_or(1.0, |i| source[k * layer.inputs + i]);
            ws.ra[m][at] = ws.d1[m][at] * ws.rz[m][at];
        }
        for l in m + 1..=last {
            let rows = layers[l].outputs;
            let weights = &theta[layers[l].weights.clone()];
            if l == m + 1 {
                // R z_{m+1} = W_{m+1}[·, h] ⊗ R a_m[h, ·].
                let outgoing = &weights[h * rows..(h + 1) * rows];
                for (k, rz) in ws.rz[l].chunks_mut(rows).enumerate() {
                    let ra = ws.ra[m][k * layer.outputs + h];
                    rz.iter_mut().zip(outgoing).for_each(|(r, w)| *r = w * ra);
                }
            } else {
                gemm(
                    &mut ws.rz[l],
                    (rows, n),
                    view(weights, rows, layers[l].inputs),
                    view(&ws.ra[l - 1], layers[l].inputs, n),
                    0.0,
                );
            }
            if l < last {
                for ((ra, rz), s) in ws.ra[l].iter_mut().zip(&ws.rz[l]).zip(&ws.d1[l]) {
                    *ra = s * rz;
                }
            }
        }
        self.output_r_delta(data, ws);
        // Backward R pass down to layer m.
        for l in (m..=last).rev() {
            let current = &layers[l];
            let (rows, inputs) = (current.outputs, current.inputs);
            let input = if l == 0 { &data.inputs } else { &ws.a[l - 1] };
            let (rdelta_before, rdelta_rest) = ws.rdelta.split_at_mut(l);
            let rdelta = &rdelta_rest[0];
            row_sums(rdelta, rows, &mut column[current.biases.clone()]);
            if l == m {
                // Only the inputs from i on (none for a bias column).
                if let Some(i) = unit_input {
                    let from = current.weights.start + i * rows;
                    gemm(
                        &mut column[from..current.weights.end],
                        (rows, inputs - i),
                        view(rdelta, rows, n),
                        view(input, inputs, n).subrows(i, inputs - i).transpose(),
                        0.0,
                    );
                    column[j] += self.weight_decay();
                }
                break;
            }
            let w_out = &mut column[current.weights.clone()];
            gemm(
                w_out,
                (rows, inputs),
                view(rdelta, rows, n),
                view(input, inputs, n).transpose(),
                0.0,
            );
            if l == m + 1 {
                // δ_l (R a_m)ᵀ: R a_m is row h only, so column h only.
                let target = &mut w_out[h * rows..(h + 1) * rows];
                for (k, delta) in ws.delta[l].chunks(rows).enumerate() {
                    let ra = ws.ra[m][k * layer.outputs + h];
                    target.iter_mut().zip(delta).for_each(|(t, d)| *t += d * ra);
                }
            } else {
                gemm(
                    w_out,
                    (rows, inputs),
                    view(&ws.delta[l], rows, n),
                    view(&ws.ra[l - 1], inputs, n).transpose(),
                    1.0,
                );
            }
            // R δ_{l−1} = (W_lᵀ R δ_l) ⊙ σ′(z_{l−1}) + (W_lᵀ δ_l) ⊙ σ″(z_{l−1}) ⊙ R z_{l−1}.
            let scratch = &mut ws.scratch[l];
            gemm(
                scratch,
                (inputs, n),
                view(&theta[current.weights.clone()], rows, inputs).transpose(),
                view(rdelta, rows, n),
                0.0,
            );
            chain_r_delta(
                &mut rdelta_before[l - 1],
                scratch,
                (&ws.d1[l - 1], &ws.d2[l - 1]),
                &ws.rz[l - 1],
                &ws.back[l],
            );
        }
    }
}
