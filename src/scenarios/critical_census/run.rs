//! One search of `critical-census`: draw a starting point, run Newton to a critical point,
//! and describe where it stopped.

use rand::RngExt;

use super::records::{INDEX_THRESHOLDS, SearchRun};
use super::{Case, CriticalCensus, Start};
use crate::mc::StreamRng;
use crate::nets::{
    Dataset, Mlp, SearchSettings, Spectrum, canonical_form, convergence_order, dense_hessian,
    lanczos, nearest_critical_point, train,
};
use crate::optim::norm;

/// Lanczos steps for the spectral scale at the start (it sets the flatness scale only).
const SCALE_LANCZOS_STEPS: usize = 40;

impl CriticalCensus {
    /// One search of the cell `case`, every random choice from `rng`.
    pub(super) fn search_once(&self, case: &Case, rng: &mut StreamRng) -> SearchRun {
        let net = self.network(case);
        let data = self.data_of(case.data);
        let start = self.starting_point(&net, data, case.start, rng);
        let p = net.parameters();
        let mut ws = net.workspace(data.examples());
        let mut gradient = vec![0.0; p];
        net.loss_and_gradient(&start, data, &mut ws, &mut gradient);
        let start_norm = norm(&gradient);
        let ritz = lanczos(
            |x, y| net.hessian_vector(&start, data, &mut ws, x, y),
            &vec![1.0; p],
            SCALE_LANCZOS_STEPS,
        );
        let scale = ritz
            .values
            .iter()
            .fold(0.0, |m: f64, v| m.max(v.abs()))
            .max(f64::MIN_POSITIVE);
        let settings = SearchSettings {
            iterations: self.iterations,
            step: self.step(case.solver),
            tolerance: self.critical_tolerance * start_norm,
            flatness: self.flatness,
            examples_per_chunk: None,
        };
        let search = nearest_critical_point(&net, data, &start, scale, &settings);
        let spectrum =
            Spectrum::of(&dense_hessian(&net, &search.theta, data), p).unwrap_or(Spectrum {
                eigenvalues: vec![f64::NAN],
            });
        let top = spectrum.max();
        let critical = search.outcome == crate::nets::SearchOutcome::Critical;
        SearchRun {
            outcome: search.outcome.name().to_string(),
            losses: search.losses,
            relative_gradient: search.gradient_norms.1 / start_norm,
            order: convergence_order(&search.gradient_history),
            cost: (search.iterations as u64, search.products as u64),
            distance: search.distance,
            flatness: search.flatness,
            lambda: (spectrum.min(), top),
            index: INDEX_THRESHOLDS
                .iter()
                .map(|t| spectrum.index(t * top) as u64)
                .collect(),
            canonical: critical.then(|| {
                canonical_form(&net, &search.theta)
                    .iter()
                    .map(|&x| x as f32)
                    .collect()
            }),
        }
    }

    /// A fresh initialisation, a point along a GD trajectory, or where GD looked converged.
    fn starting_point(
        &self,
        net: &Mlp,
        data: &Dataset,
        start: Start,
        rng: &mut StreamRng,
    ) -> Vec<f64> {
        let theta = net.initialise(self.init_gain, rng);
        match start {
            Start::Init => theta,
            Start::Trajectory => {
                let epochs = rng.random_range(1..=self.trajectory_epochs);
                self.descend(net, data, theta, epochs as usize)
            }
            Start::End => {
                let run = train(net, data, theta.clone(), &self.schedule, rng);
                match run.plateaus.last() {
                    Some(plateau) => plateau.theta.clone(),
                    None => self.descend(net, data, theta, self.schedule.max_epochs),
                }
            }
        }
    }

    /// `epochs` full-batch GD steps at the scenario's learning rate.
    fn descend(&self, net: &Mlp, data: &Dataset, mut theta: Vec<f64>, epochs: usize) -> Vec<f64> {
        let mut ws = net.workspace(data.examples());
        let mut gradient = vec![0.0; theta.len()];
        for _ in 0..epochs {
            net.loss_and_gradient(&theta, data, &mut ws, &mut gradient);
            for (t, g) in theta.iter_mut().zip(&gradient) {
                *t -= self.learning_rate * g;
            }
        }
        theta
    }
}
