//! The gradient of a real network's loss at its random initialisation, as a
//! [`GradientLaw`] of the Gaussian initialisation, with the per-parameter boxes calibrated
//! on a pilot sample, and what the points inside the box look like.

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use crate::landscape::{GradientLaw, box_score};
use crate::nets::{Dataset, Mlp, Spectrum, Workspace, dense_hessian};
use crate::stats::MeanVar;

/// The full-batch gradient of `net` on `data` at `θ(ξ)`: every weight `N(0, gain²/fan_in)`
/// through its latent coordinate, biases 0 ([`Mlp::initialise`]'s law). Only the *live*
/// partial derivatives form the gradient: a weight fed by a constant-zero input (the digits'
/// blank corner pixels, standardised) has ∂ℓ/∂w ≡ 0 and lies in any box with probability 1,
/// so it is left out of n.
pub struct NetworkGradient<'a> {
    net: &'a Mlp,
    data: &'a Dataset,
    /// Parameter index and standard deviation of each latent coordinate.
    weights: Vec<(usize, f64)>,
    /// Parameter indices of the live partial derivatives.
    live: Vec<usize>,
}

/// Buffers of one evaluation.
pub struct NetworkScratch {
    workspace: Workspace,
    theta: Vec<f64>,
    full: Vec<f64>,
}

impl<'a> NetworkGradient<'a> {
    /// The law of `net`'s gradient on `data` at initialisations of gain `gain`, every
    /// partial derivative live (see [`NetworkGradient::calibrate`]).
    pub fn new(net: &'a Mlp, data: &'a Dataset, gain: f64) -> Self {
        let weights = net
            .layers()
            .iter()
            .flat_map(|l| {
                let sd = gain / (l.inputs as f64).sqrt();
                l.weights.clone().map(move |i| (i, sd))
            })
            .collect();
        NetworkGradient {
            net,
            data,
            weights,
            live: (0..net.parameters()).collect(),
        }
    }

    /// The parameters at latent `latent`.
    pub fn parameters(&self, latent: &[f64], theta: &mut [f64]) {
        theta.fill(0.0);
        for l in self.net.layers() {
            theta[l.scales.clone()].fill(1.0);
        }
        for (&(i, sd), x) in self.weights.iter().zip(latent) {
            theta[i] = sd * x;
        }
    }

    /// Draws `samples` initialisations from `rng`, keeps the partial derivatives that are
    /// not identically zero (largest |∂ᵢℓ| above 1e-12 of the largest overall), and sets
    /// each one's box half-width τᵢ to the empirical `p`-quantile of |∂ᵢℓ| (so
    /// `P(|∂ᵢℓ| < τᵢ) ≈ p` for each i); also summarises the loss and output spread of the
    /// random points. Call on the law with every derivative live ([`NetworkGradient::new`]).
    pub fn calibrate<R: Rng + ?Sized>(&self, p: f64, samples: usize, rng: &mut R) -> Calibration {
        let parameters = self.net.parameters();
        let mut scratch = self.scratch();
        let mut latent = vec![0.0; self.latent_len()];
        let mut columns = vec![Vec::with_capacity(samples); parameters];
        let (mut loss, mut spread) = (MeanVar::default(), MeanVar::default());
        for _ in 0..samples {
            for x in latent.iter_mut() {
                *x = rng.sample(StandardNormal);
            }
            let (l, s) = self.describe_point(&latent, &mut scratch);
            loss.push(l);
            spread.push(s);
            self.gradient(&latent, &mut vec![0.0; parameters], &mut scratch);
            for (column, g) in columns.iter_mut().zip(&scratch.full) {
                column.push(g.abs());
            }
        }
        let largest = columns.iter().flatten().fold(0.0f64, |m, &g| m.max(g));
        let (mut thresholds, mut live) = (Vec::new(), Vec::new());
        for (i, column) in columns.iter_mut().enumerate() {
            column.sort_unstable_by(f64::total_cmp);
            if column.last().is_some_and(|&m| m > 1e-12 * largest) {
                let rank = ((p * samples as f64).floor() as usize).min(samples - 1);
                thresholds.push(column[rank]);
                live.push(i);
            }
        }
        Calibration {
            live,
            thresholds,
            samples,
            random_loss: loss,
            random_spread: spread,
        }
    }

    /// The same law with only the partial derivatives `live` (parameter indices) in the
    /// gradient.
    pub fn restricted(self, live: &[usize]) -> Self {
        NetworkGradient {
            live: live.to_vec(),
            ..self
        }
    }

    /// Loss and output spread (the distance to a constant-output network: the RMS over
    /// examples and classes of a logit minus its mean over the examples) at `latent`.
    pub fn describe_point(&self, latent: &[f64], scratch: &mut NetworkScratch) -> (f64, f64) {
        self.parameters(latent, &mut scratch.theta);
        let loss = self
            .net
            .loss(&scratch.theta, self.data, &mut scratch.workspace);
        let spread = output_spread(self.net, &scratch.theta, self.data, &mut scratch.workspace);
        (loss, spread)
    }

    /// The full-batch loss at parameters `theta`.
    pub fn loss_at(&self, theta: &[f64], scratch: &mut NetworkScratch) -> f64 {
        self.net.loss(theta, self.data, &mut scratch.workspace)
    }

    /// The Hessian index at `latent` at threshold `relative`·λ_max (see
    /// [`Spectrum::index`]), or `None` if the eigensolver fails.
    pub fn index(
        &self,
        latent: &[f64],
        relative: f64,
        scratch: &mut NetworkScratch,
    ) -> Option<usize> {
        self.parameters(latent, &mut scratch.theta);
        let p = self.net.parameters();
        let spectrum = Spectrum::of(&dense_hessian(self.net, &scratch.theta, self.data), p)?;
        Some(spectrum.index(relative * spectrum.max().abs()))
    }

    /// Whether the full-batch gradient at parameters `theta` lies in the box.
    pub fn in_box(&self, theta: &[f64], thresholds: &[f64], scratch: &mut NetworkScratch) -> bool {
        self.net
            .loss_and_gradient(theta, self.data, &mut scratch.workspace, &mut scratch.full);
        let live: Vec<f64> = self.live.iter().map(|&i| scratch.full[i]).collect();
        box_score(&live, thresholds) <= 1.0
    }
}

/// The boxes and the random points' summary from a pilot sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// Parameter indices of the live partial derivatives.
    pub live: Vec<usize>,
    /// τᵢ of each live partial derivative.
    pub thresholds: Vec<f64>,
    /// Pilot size.
    pub samples: usize,
    /// Loss at the random points.
    pub random_loss: MeanVar,
    /// Output spread at the random points.
    pub random_spread: MeanVar,
}

impl Calibration {
    /// The standard deviation that the pilot's finite size puts on the reference `n ln p`:
    /// each τᵢ is an empirical quantile, so the true `P(|∂ᵢℓ| < τᵢ)` is p with standard
    /// deviation `√(p(1−p)/N)`, i.e. `√((1−p)/(pN))` in `ln pᵢ`; summed over n coordinates
    /// taken as independent, `√(n(1−p)/(pN))`.
    pub fn reference_sd(&self, p: f64) -> f64 {
        (self.thresholds.len() as f64 * (1.0 - p) / (p * self.samples as f64)).sqrt()
    }
}

impl GradientLaw for NetworkGradient<'_> {
    type Scratch = NetworkScratch;
    fn scratch(&self) -> NetworkScratch {
        NetworkScratch {
            workspace: self.net.workspace(self.data.examples()),
            theta: vec![0.0; self.net.parameters()],
            full: vec![0.0; self.net.parameters()],
        }
    }
    fn dimension(&self) -> usize {
        self.live.len()
    }
    fn latent_len(&self) -> usize {
        self.weights.len()
    }
    fn gradient(&self, latent: &[f64], gradient: &mut [f64], scratch: &mut NetworkScratch) {
        self.parameters(latent, &mut scratch.theta);
        self.net.loss_and_gradient(
            &scratch.theta,
            self.data,
            &mut scratch.workspace,
            &mut scratch.full,
        );
        for (g, &i) in gradient.iter_mut().zip(&self.live) {
            *g = scratch.full[i];
        }
    }
}

/// RMS over examples and classes of `oₖ(x) − mean_x oₖ(x)` for the output logits o
/// ([`Mlp::outputs`]): zero exactly when the network's output does not depend on its input.
pub fn output_spread(net: &Mlp, theta: &[f64], data: &Dataset, ws: &mut Workspace) -> f64 {
    let m = data.examples();
    let logits = net.outputs(theta, data, ws);
    let k = logits.len() / m;
    let mut total = 0.0;
    for class in 0..k {
        let mean = (0..m).map(|e| logits[e * k + class]).sum::<f64>() / m as f64;
        total += (0..m)
            .map(|e| (logits[e * k + class] - mean).powi(2))
            .sum::<f64>();
    }
    (total / (m * k) as f64).sqrt()
}
