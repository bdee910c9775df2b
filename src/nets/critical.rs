//! The critical point nearest to where training stopped: Levenberg–Marquardt on the squared
//! gradient norm, with Hessian-vector products only. C6 asks whether the end of training *is*
//! a critical point; this asks how far away the nearest one is, and what kind it is.

use super::data::Dataset;
use super::mlp::{Mlp, Workspace};
use crate::optim::norm;

/// How the search runs and how its end is classified.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchSettings {
    /// Outer (Levenberg–Marquardt) iterations, accepted or rejected.
    pub iterations: usize,
    /// Conjugate-gradient iterations per linear solve (each costs two Hessian-vector
    /// products).
    pub inner_iterations: usize,
    /// A point whose gradient norm is at most this counts as critical.
    pub tolerance: f64,
    /// A non-critical end whose flatness `‖Hg‖/(s‖g‖)` is at most this is gradient-flat
    /// (`s` is the spectral scale passed to [`nearest_critical_point`]).
    pub flatness: f64,
}

/// How a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOutcome {
    /// The gradient norm fell to the tolerance.
    Critical,
    /// It did not, and the gradient lies (nearly) in the Hessian's kernel: `½‖g‖²` has a
    /// stationary point there that is not a critical point of the loss (a "gradient-flat"
    /// point; Frye, Simon, Wadia, Ligeralde, DeWeese & Bouchard, *Neural Computation* 33,
    /// 1469, 2021).
    GradientFlat,
    /// Neither, within the iterations.
    Stalled,
}

impl SearchOutcome {
    /// Kebab-case name for tables.
    pub fn name(self) -> &'static str {
        match self {
            SearchOutcome::Critical => "critical",
            SearchOutcome::GradientFlat => "gradient-flat",
            SearchOutcome::Stalled => "stalled",
        }
    }
}

/// Where the search ended and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct CriticalSearch {
    /// The end point.
    pub theta: Vec<f64>,
    /// `‖θ_end − θ_start‖`.
    pub distance: f64,
    /// Loss at the start and at the end.
    pub losses: (f64, f64),
    /// Gradient norm at the start and at the end.
    pub gradient_norms: (f64, f64),
    /// `‖Hg‖/(s‖g‖)` at the end.
    pub flatness: f64,
    /// Outer iterations used.
    pub iterations: usize,
    /// Hessian-vector products used.
    pub products: usize,
    /// The classification of the end.
    pub outcome: SearchOutcome,
}

/// Minimises `φ(θ) = ½‖∇L(θ)‖²` from `start` by Levenberg–Marquardt: `∇φ = Hg` and the
/// Gauss–Newton matrix of φ is `H²`, so each step solves `(H² + μI)δ = −Hg` by conjugate
/// gradients on Hessian-vector products; a step that lowers `‖g‖` is taken and μ divided by
/// 3, otherwise μ is multiplied by 4 (the damping starts at `scale²/100`). This is the
/// Newton-type critical-point search of Frye et al. (2021) in its damped least-squares form;
/// unlike a descent on the loss it is drawn to saddles as much as to minima. `scale` is the
/// Hessian's spectral radius at `start` (from its spectrum).
pub fn nearest_critical_point(
    net: &Mlp,
    data: &Dataset,
    start: &[f64],
    scale: f64,
    settings: &SearchSettings,
) -> CriticalSearch {
    let p = start.len();
    let mut here = Point::new(net, data, start.to_vec());
    let mut trial = Point::new(net, data, start.to_vec());
    let (start_loss, start_norm) = (here.loss, norm(&here.gradient));
    let mut solver = Solver::new(p);
    let mut mu = 0.01 * scale * scale;
    let mut iterations = 0;
    let mut products = 0;
    while iterations < settings.iterations && norm(&here.gradient) > settings.tolerance {
        iterations += 1;
        products += solver.solve(net, data, &mut here, mu, settings.inner_iterations);
        for ((t, x), d) in trial.theta.iter_mut().zip(&here.theta).zip(&solver.step) {
            *t = x + d;
        }
        trial.evaluate(net, data);
        if trial.loss.is_finite() && norm(&trial.gradient) < norm(&here.gradient) {
            std::mem::swap(&mut here, &mut trial);
            mu /= 3.0;
        } else {
            mu *= 4.0;
        }
    }
    let gradient_norm = norm(&here.gradient);
    net.hessian_vector(
        &here.theta,
        data,
        &mut here.workspace,
        &here.gradient,
        &mut solver.product,
    );
    products += 1;
    let flatness = norm(&solver.product) / (scale * gradient_norm);
    let outcome = if gradient_norm <= settings.tolerance {
        SearchOutcome::Critical
    } else if flatness <= settings.flatness {
        SearchOutcome::GradientFlat
    } else {
        SearchOutcome::Stalled
    };
    let distance = here
        .theta
        .iter()
        .zip(start)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt();
    CriticalSearch {
        distance,
        losses: (start_loss, here.loss),
        gradient_norms: (start_norm, gradient_norm),
        flatness,
        iterations,
        products,
        outcome,
        theta: here.theta,
    }
}

/// A point with its loss, gradient, and a workspace ready for Hessian-vector products there.
struct Point {
    theta: Vec<f64>,
    loss: f64,
    gradient: Vec<f64>,
    workspace: Workspace,
}

impl Point {
    fn new(net: &Mlp, data: &Dataset, theta: Vec<f64>) -> Self {
        let mut point = Point {
            gradient: vec![0.0; theta.len()],
            theta,
            loss: 0.0,
            workspace: net.workspace(data.examples()),
        };
        point.evaluate(net, data);
        point
    }

    fn evaluate(&mut self, net: &Mlp, data: &Dataset) {
        self.loss =
            net.loss_and_gradient(&self.theta, data, &mut self.workspace, &mut self.gradient);
    }
}

/// Conjugate gradients for `(H² + μI)δ = −Hg`, with its vectors allocated once.
struct Solver {
    step: Vec<f64>,
    residual: Vec<f64>,
    direction: Vec<f64>,
    applied: Vec<f64>,
    product: Vec<f64>,
}

impl Solver {
    fn new(p: usize) -> Self {
        Solver {
            step: vec![0.0; p],
            residual: vec![0.0; p],
            direction: vec![0.0; p],
            applied: vec![0.0; p],
            product: vec![0.0; p],
        }
    }

    /// Solves into `self.step` (from zero, to a relative residual of 10⁻⁸ or `iterations`
    /// iterations); returns the Hessian-vector products used.
    fn solve(
        &mut self,
        net: &Mlp,
        data: &Dataset,
        at: &mut Point,
        mu: f64,
        iterations: usize,
    ) -> usize {
        net.hessian_vector(
            &at.theta,
            data,
            &mut at.workspace,
            &at.gradient,
            &mut self.product,
        );
        let mut products = 1;
        self.step.iter_mut().for_each(|s| *s = 0.0);
        for (r, hg) in self.residual.iter_mut().zip(&self.product) {
            *r = -hg;
        }
        self.direction.copy_from_slice(&self.residual);
        let target = 1e-16 * dot(&self.residual, &self.residual);
        let mut rr = dot(&self.residual, &self.residual);
        for _ in 0..iterations {
            if rr <= target || rr == 0.0 {
                break;
            }
            // applied = H(H d) + μ d
            net.hessian_vector(
                &at.theta,
                data,
                &mut at.workspace,
                &self.direction,
                &mut self.product,
            );
            net.hessian_vector(
                &at.theta,
                data,
                &mut at.workspace,
                &self.product,
                &mut self.applied,
            );
            products += 2;
            for (a, d) in self.applied.iter_mut().zip(&self.direction) {
                *a += mu * d;
            }
            let alpha = rr / dot(&self.direction, &self.applied);
            for i in 0..self.step.len() {
                self.step[i] += alpha * self.direction[i];
                self.residual[i] -= alpha * self.applied[i];
            }
            let next = dot(&self.residual, &self.residual);
            let beta = next / rr;
            rr = next;
            for (d, r) in self.direction.iter_mut().zip(&self.residual) {
                *d = r + beta * *d;
            }
        }
        products
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::chunk_stream;
    use crate::nets::{Activation, Loss, Spectrum, dense_hessian};

    fn settings() -> SearchSettings {
        SearchSettings {
            iterations: 60,
            inner_iterations: 60,
            tolerance: 1e-9,
            flatness: 1e-3,
        }
    }

    /// From a point near a minimum with weight decay (so the minimum is isolated), the search
    /// reaches a gradient norm below 10⁻⁹, a point whose Hessian has no negative eigenvalue,
    /// and a loss no higher than the start's (it moves little: the start is close).
    #[test]
    fn from_near_a_minimum_it_finds_the_minimum() {
        let data = Dataset::iris()
            .split(0.2, &mut chunk_stream(1, "iris", 0, 0))
            .train;
        let net = Mlp::new(&[4, 3, 3], Activation::Tanh, Loss::CrossEntropy, 1e-2);
        let mut theta = net.initialise(1.0, &mut chunk_stream(2, "init", 0, 0));
        let mut ws = net.workspace(data.examples());
        let mut g = vec![0.0; theta.len()];
        for _ in 0..3000 {
            net.loss_and_gradient(&theta, &data, &mut ws, &mut g);
            theta.iter_mut().zip(&g).for_each(|(t, g)| *t -= 0.5 * g);
        }
        let h = dense_hessian(&net, &theta, &data);
        let spectrum = Spectrum::of(&h, theta.len()).unwrap();
        let scale = spectrum.max().abs().max(spectrum.min().abs());
        let search = nearest_critical_point(&net, &data, &theta, scale, &settings());
        assert_eq!(search.outcome, SearchOutcome::Critical, "{search:?}");
        assert!(search.gradient_norms.1 <= 1e-9);
        assert!(search.losses.1 <= search.losses.0 + 1e-12);
        let end = Spectrum::of(&dense_hessian(&net, &search.theta, &data), theta.len()).unwrap();
        assert_eq!(end.index(1e-10 * end.max()), 0, "λ_min = {}", end.min());
    }

    /// With all weights zero and the output bias at the mean target, a tanh network under
    /// squared error sits at a saddle (the hidden–output block of the Hessian is
    /// `[[0, C], [Cᵀ, 0]]`, eigenvalues ±σ(C)). From a small perturbation of it the search
    /// finds a critical point of index ≥ 1 nearby: it minimises ‖g‖, not the loss.
    #[test]
    fn it_is_drawn_to_saddles_too() {
        let data = Dataset::iris()
            .split(0.2, &mut chunk_stream(1, "iris", 0, 0))
            .train;
        let net = Mlp::new(&[4, 2, 3], Activation::Tanh, Loss::SquaredError, 0.0);
        // All weights zero is a critical point of the squared error with tanh (σ(0) = 0 kills
        // the output weights' gradient; zero output weights kill the hidden ones); biases at
        // their optimum make it exactly critical. Start slightly off it.
        let mut theta: Vec<f64> = (0..net.parameters())
            .map(|i| 1e-3 * ((i % 5) as f64 - 2.0))
            .collect();
        let output = net.layers()[1].biases.clone();
        for &label in &data.labels {
            theta[output.start + label] += 1.0 / data.examples() as f64;
        }
        let search = nearest_critical_point(&net, &data, &theta, 1.0, &settings());
        assert_eq!(search.outcome, SearchOutcome::Critical, "{search:?}");
        theta.clone_from(&search.theta);
        let end = Spectrum::of(&dense_hessian(&net, &theta, &data), theta.len()).unwrap();
        assert!(end.index(1e-9) >= 1, "{:?}", end.eigenvalues);
        assert!(search.distance < 0.1, "{search:?}");
    }
}
