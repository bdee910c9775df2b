//! One replicate of `convergence-audit`: train a network from one seed, then audit every
//! point where training looked converged.

use super::records::{
    HistoryPoint, INDEX_THRESHOLDS, PlateauAudit, RunAudit, SearchRecord, SpectrumHistogram,
};
use super::{Case, ConvergenceAudit};
use crate::mc::StreamRng;
use crate::nets::{
    Mlp, Spectrum, TrainingRun, audit_curvature, dense_hessian, index_by_inertia, lanczos,
    layer_gradients, nearest_critical_point, straight_line_losses, train,
};

/// Lanczos steps for the extreme eigenvalues where the search stops (they agree with the
/// dense eigenvalues to 10⁻⁸ of λ_max at P = 610 after 120 steps; the largest, an outlier,
/// converges first).
const EXTREME_LANCZOS_STEPS: usize = 80;

/// Outliers are looked for among the `OUTLIER_WINDOW_PER_CLASS · k` largest eigenvalues.
const OUTLIER_WINDOW_PER_CLASS: usize = 4;

impl ConvergenceAudit {
    /// Trains the network of `case` from a seed drawn from `rng` and audits it.
    pub(super) fn run_one(&self, case: &Case, rng: &mut StreamRng) -> RunAudit {
        let net = self.network(case);
        let start = net.initialise(self.init_gain, rng);
        let run = train(
            &net,
            &self.train,
            start.clone(),
            &self.schedule_of(case),
            rng,
        );
        let initial = &run.history[0];
        let mut audit = RunAudit {
            diverged: run.diverged,
            converged: run.converged,
            epochs: run.history.last().map_or(0, |r| r.epoch as u64),
            layer_sizes: net
                .layers()
                .iter()
                .map(|l| (l.biases.end - l.weights.start) as u64)
                .collect(),
            initial_gradient: (initial.gradient_norm, initial.layer_norms.clone()),
            plateaus: Vec::new(),
            history: self.thin(&run),
            line: Vec::new(),
            search: None,
            spectrum: SpectrumHistogram::default(),
        };
        if run.diverged || run.plateaus.is_empty() {
            return audit;
        }
        let mut end_spectrum = None;
        for plateau in &run.plateaus {
            let (point, spectrum) = self.audit_point(&net, &plateau.theta);
            audit.plateaus.push(PlateauAudit {
                epoch: plateau.epoch as u64,
                learning_rate: plateau.learning_rate,
                ..point
            });
            end_spectrum = Some(spectrum);
        }
        let end = &run.plateaus[run.plateaus.len() - 1].theta;
        let spectrum = end_spectrum.expect("at least one plateau");
        audit.spectrum.record(&spectrum.eigenvalues);
        audit.line = straight_line_losses(&net, &self.train, &start, end, self.line_points);
        if self.search.iterations > 0 {
            audit.search = Some(self.search_from(&net, end, &spectrum, initial.gradient_norm));
        }
        audit
    }

    /// The epochs kept for the figures: every `history_every`-th, every plateau and the
    /// last.
    fn thin(&self, run: &TrainingRun) -> Vec<HistoryPoint> {
        let last = run.history.len().saturating_sub(1);
        run.history
            .iter()
            .enumerate()
            .filter(|(i, r)| {
                *i == last
                    || (r.epoch as u64).is_multiple_of(self.history_every)
                    || run.plateaus.iter().any(|p| p.epoch == r.epoch)
            })
            .map(|(_, r)| HistoryPoint {
                epoch: r.epoch as u64,
                loss: r.loss,
                gradient_norm: r.gradient_norm,
                layer_norms: r.layer_norms.clone(),
            })
            .collect()
    }

    /// Loss, accuracies, gradient by layer and Hessian spectrum at `theta` (epoch and rate
    /// left for the caller), and the spectrum itself.
    fn audit_point(&self, net: &Mlp, theta: &[f64]) -> (PlateauAudit, Spectrum) {
        let p = net.parameters();
        let mut ws = net.workspace(self.train.examples());
        let mut gradient = vec![0.0; p];
        let loss = net.loss_and_gradient(theta, &self.train, &mut ws, &mut gradient);
        let train_accuracy = net.accuracy(theta, &self.train, &mut ws, None);
        let mut test_ws = net.workspace(self.test.examples());
        let test_accuracy = net.accuracy(theta, &self.test, &mut test_ws, None);
        let hessian = dense_hessian(net, theta, &self.train);
        let classes = self.train.classes;
        let (spectrum, shares) =
            match audit_curvature(&hessian, p, &gradient, classes, self.curvature_tolerance) {
                Some(a) => (
                    a.spectrum,
                    (a.shares.top, a.shares.near_null, a.shares.negative),
                ),
                None => (
                    Spectrum::of(&hessian, p).unwrap_or(Spectrum {
                        eigenvalues: vec![f64::NAN],
                    }),
                    (f64::NAN, f64::NAN, f64::NAN),
                ),
            };
        let top = spectrum.max();
        let point = PlateauAudit {
            epoch: 0,
            learning_rate: 0.0,
            loss,
            accuracy: (train_accuracy, test_accuracy),
            gradient_norm: crate::optim::norm(&gradient),
            layers: layer_gradients(net, &gradient)
                .iter()
                .map(|l| (l.norm, l.rms))
                .collect(),
            lambda: (spectrum.min(), top),
            index: INDEX_THRESHOLDS
                .iter()
                .map(|t| spectrum.index(t * top) as u64)
                .collect(),
            outliers: spectrum.outliers(OUTLIER_WINDOW_PER_CLASS * classes) as u64,
            shares,
        };
        (point, spectrum)
    }

    /// The nearest-critical-point search from `end`, with its end point's index.
    fn search_from(
        &self,
        net: &Mlp,
        end: &[f64],
        spectrum: &Spectrum,
        initial_norm: f64,
    ) -> SearchRecord {
        let scale = spectrum.max().abs().max(spectrum.min().abs());
        let mut settings = self.search;
        settings.tolerance = self.search_tolerance * initial_norm;
        let search = nearest_critical_point(net, &self.train, end, scale, &settings);
        // Only the count is needed where the search stops: the extreme eigenvalues from
        // Lanczos, the index from the inertia of the dense Hessian (no eigenvalues).
        let p = net.parameters();
        let mut ws = net.workspace(self.train.examples());
        let mut gradient = vec![0.0; p];
        net.loss_and_gradient(&search.theta, &self.train, &mut ws, &mut gradient);
        let ritz = lanczos(
            |x, y| net.hessian_vector(&search.theta, &self.train, &mut ws, x, y),
            &vec![1.0; p],
            EXTREME_LANCZOS_STEPS,
        );
        let (low, high) = (ritz.values[0], ritz.values[ritz.values.len() - 1]);
        let hessian = dense_hessian(net, &search.theta, &self.train);
        let index = index_by_inertia(&hessian, p, INDEX_THRESHOLDS[2] * high) as u64;
        let lambda_ratio = low / high;
        SearchRecord {
            distance: search.distance,
            loss_change: search.losses.1 - search.losses.0,
            relative_gradient: search.gradient_norms.1 / initial_norm,
            flatness: search.flatness,
            index,
            lambda_ratio,
            outcome: search.outcome.name().to_string(),
            products: search.products as u64,
        }
    }
}
