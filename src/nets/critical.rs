//! The critical point nearest to where training stopped: Newton-MR on `∇L = 0`, with
//! Hessian-vector products only. C6 asks whether the end of training *is*
//! a critical point; this asks how far away the nearest one is, and what kind it is.

use faer::{Mat, Side};

use super::chunked::ChunkedEvaluator;
use super::data::Dataset;
use super::hessian::dense_hessian;
use super::mlp::Mlp;
use crate::optim::norm;

/// How the search runs and how its end is classified.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchSettings {
    /// Outer (Newton) iterations.
    pub iterations: usize,
    /// How each Newton step is solved.
    pub step: NewtonStep,
    /// A point whose gradient norm is at most this counts as critical.
    pub tolerance: f64,
    /// A non-critical end whose flatness `‖Hg‖/(s‖g‖)` is at most this is gradient-flat
    /// (`s` is the spectral scale passed to [`nearest_critical_point`]).
    pub flatness: f64,
    /// Examples per chunk of the parallel full-data products ([`ChunkedEvaluator`]); `None`
    /// keeps the whole batch in one (the scenarios, whose seeds already fill the cores).
    pub examples_per_chunk: Option<usize>,
}

/// How the Newton system `Hδ = −g` is solved at each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewtonStep {
    /// Inexact: this many MINRES iterations (one Hessian-vector product each), the
    /// minimum-residual solution in the Krylov space (Newton-MR). Any P.
    Minres(usize),
    /// Exact: Levenberg–Marquardt steps `δ = −Σ λᵢ(uᵢᵀg)/(λᵢ² + μ) uᵢ` from the dense
    /// Hessian's eigendecomposition, the damping μ adapted within the step (P products and
    /// an O(P³) decomposition per step; for small networks). Becomes Newton's step as μ → 0
    /// and converges quadratically near a non-degenerate critical point.
    Exact,
    /// Saddle-free Newton on the loss itself (Dauphin, Pascanu, Gulcehre, Cho, Ganguli &
    /// Bengio, NeurIPS 2014, arXiv:1406.2572): `δ = −Σ cᵢ/(|λᵢ| + μ) uᵢ` from one dense
    /// eigendecomposition per step, accepted when the loss falls. Every step descends (the
    /// rescaled matrix is positive definite) and moves away from saddles along their
    /// negative curvature, so it ends at minima: the search for the minimum below a point
    /// where the other two end gradient-flat or stalled. Small networks only, like `Exact`.
    SaddleFree,
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
    /// Newton iterations used.
    pub iterations: usize,
    /// Gradient norm at the start and after each accepted step.
    pub gradient_history: Vec<f64>,
    /// Hessian-vector products used.
    pub products: usize,
    /// The classification of the end.
    pub outcome: SearchOutcome,
}

/// A Newton-type search for a critical point, `∇L(θ) = 0`, from `start`, by one of two step
/// rules ([`NewtonStep`]). Newton-MR (F. Roosta, Y. Liu, P. Xu & M. W. Mahoney, "Newton-MR:
/// Inexact Newton method with minimum residual sub-problem solver", *EURO J. Comput. Optim.*
/// 10, 100035, 2022; arXiv:1810.00303): each step `δ` minimises `‖Hδ + g‖` by MINRES on
/// Hessian-vector products (H may be indefinite or singular), then a backtracking line search
/// asks for Armijo decrease of `φ = ½‖g‖²`, `‖g(θ + αδ)‖² ≤ ‖g‖² + 2ρα⟨δ, Hg⟩` with
/// ρ = 10⁻⁴. Exact: damped Newton (Levenberg–Marquardt on φ) from the dense Hessian's
/// eigendecomposition. Unlike a descent on the loss either is drawn to saddles as much as to
/// minima, and where `g` lies in the kernel of H it stalls at a gradient-flat point (Frye et
/// al. 2021). `scale` is the Hessian's spectral radius at `start`: it sets the flatness scale
/// and the first damping.
pub fn nearest_critical_point(
    net: &Mlp,
    data: &Dataset,
    start: &[f64],
    scale: f64,
    settings: &SearchSettings,
) -> CriticalSearch {
    let p = start.len();
    let chunking = settings.examples_per_chunk;
    let mut here = Point::new(net, data, start.to_vec(), chunking);
    let mut trial = Point::new(net, data, start.to_vec(), chunking);
    let (start_loss, start_norm) = (here.loss, norm(&here.gradient));
    let mut solver = Minres::new(p);
    let mut iterations = 0;
    let mut products = 0;
    let mut gradient_history = vec![start_norm];
    // ν of the damped eigen-steps, so that the first damping is 10⁻³ of the spectral scale
    // in the step's own units (curvature² for Levenberg–Marquardt, curvature for saddle-free).
    let mut damping = match settings.step {
        NewtonStep::SaddleFree => 1e-3 * scale / start_norm.max(f64::MIN_POSITIVE),
        _ => 1e-3 * scale * scale / (start_norm * start_norm).max(f64::MIN_POSITIVE),
    };
    while iterations < settings.iterations && norm(&here.gradient) > settings.tolerance {
        iterations += 1;
        let accepted = match settings.step {
            NewtonStep::Minres(inner) => {
                products += solver.solve(net, &mut here, inner);
                let (accepted, used) = armijo_search(net, &mut here, &mut trial, &mut solver);
                products += used;
                accepted
            }
            NewtonStep::Exact | NewtonStep::SaddleFree => {
                products += p;
                let rule = if settings.step == NewtonStep::Exact {
                    Damped::GradientNorm
                } else {
                    Damped::SaddleFree
                };
                damped_eigen_step(net, data, &here, &mut trial, &mut damping, rule)
            }
        };
        if !accepted {
            break;
        }
        std::mem::swap(&mut here, &mut trial);
        gradient_history.push(norm(&here.gradient));
    }
    let gradient_norm = norm(&here.gradient);
    here.evaluator
        .hessian_vector(net, &here.theta, &here.gradient, &mut solver.y);
    products += 1;
    let flatness = norm(&solver.y) / (scale * gradient_norm);
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
        gradient_history,
        products,
        outcome,
        theta: here.theta,
    }
}

/// A point with its loss, gradient, and an evaluator ready for Hessian-vector products there.
struct Point {
    theta: Vec<f64>,
    loss: f64,
    gradient: Vec<f64>,
    evaluator: ChunkedEvaluator,
}

impl Point {
    fn new(net: &Mlp, data: &Dataset, theta: Vec<f64>, chunking: Option<usize>) -> Self {
        let mut point = Point {
            gradient: vec![0.0; theta.len()],
            theta,
            loss: 0.0,
            evaluator: ChunkedEvaluator::new(net, data, chunking),
        };
        point.evaluate(net);
        point
    }

    fn evaluate(&mut self, net: &Mlp) {
        self.loss = self
            .evaluator
            .loss_and_gradient(net, &self.theta, &mut self.gradient);
    }
}

/// MINRES (C. C. Paige & M. A. Saunders, *SIAM J. Numer. Anal.* 12, 617, 1975) for
/// `Hx = −g` from x = 0, without preconditioner, in the form of SciPy's `minres`: Lanczos
/// vectors with a three-term recurrence and Givens rotations; the residual norm `‖Hx + g‖`
/// is known at every step without forming it. Vectors are allocated once.
struct Minres {
    x: Vec<f64>,
    v: Vec<f64>,
    y: Vec<f64>,
    r1: Vec<f64>,
    r2: Vec<f64>,
    w: Vec<f64>,
    w1: Vec<f64>,
    w2: Vec<f64>,
}

impl Minres {
    fn new(p: usize) -> Self {
        let zero = || vec![0.0; p];
        Minres {
            x: zero(),
            v: zero(),
            y: zero(),
            r1: zero(),
            r2: zero(),
            w: zero(),
            w1: zero(),
            w2: zero(),
        }
    }

    /// Solves into `self.x` to a relative residual of 10⁻¹⁰ or `iterations` Lanczos steps;
    /// returns the Hessian-vector products used.
    fn solve(&mut self, net: &Mlp, at: &mut Point, iterations: usize) -> usize {
        for (r, g) in self.r1.iter_mut().zip(&at.gradient) {
            *r = -g;
        }
        self.r2.copy_from_slice(&self.r1);
        self.y.copy_from_slice(&self.r1);
        for vector in [&mut self.x, &mut self.w, &mut self.w1, &mut self.w2] {
            vector.iter_mut().for_each(|e| *e = 0.0);
        }
        let beta1 = norm(&self.r1);
        let (mut old_beta, mut beta) = (0.0, beta1);
        let (mut dbar, mut epsilon, mut phibar) = (0.0, 0.0, beta1);
        let (mut cs, mut sn) = (-1.0, 0.0);
        let mut products = 0;
        for step in 0..iterations {
            if beta == 0.0 || phibar <= 1e-10 * beta1 {
                break;
            }
            for (v, y) in self.v.iter_mut().zip(&self.y) {
                *v = y / beta;
            }
            at.evaluator
                .hessian_vector(net, &at.theta, &self.v, &mut self.y);
            products += 1;
            if step > 0 {
                for (y, r) in self.y.iter_mut().zip(&self.r1) {
                    *y -= beta / old_beta * r;
                }
            }
            let alpha = dot(&self.v, &self.y);
            for (y, r) in self.y.iter_mut().zip(&self.r2) {
                *y -= alpha / beta * r;
            }
            std::mem::swap(&mut self.r1, &mut self.r2);
            self.r2.copy_from_slice(&self.y);
            old_beta = beta;
            beta = norm(&self.r2);
            let old_epsilon = epsilon;
            let delta = cs * dbar + sn * alpha;
            let gbar = sn * dbar - cs * alpha;
            epsilon = sn * beta;
            dbar = -cs * beta;
            let gamma = gbar.hypot(beta).max(f64::EPSILON);
            cs = gbar / gamma;
            sn = beta / gamma;
            let phi = cs * phibar;
            phibar *= sn;
            std::mem::swap(&mut self.w1, &mut self.w2);
            std::mem::swap(&mut self.w2, &mut self.w);
            for i in 0..self.w.len() {
                self.w[i] = (self.v[i] - old_epsilon * self.w1[i] - delta * self.w2[i]) / gamma;
                self.x[i] += phi * self.w[i];
            }
        }
        products
    }
}

/// Backtracking along the MINRES step `solver.x` from `here` until Armijo's condition on
/// `φ = ½‖g‖²` holds (ρ = 10⁻⁴, at most 30 halvings), leaving the accepted point in `trial`;
/// returns whether a step was accepted and the Hessian-vector products used.
fn armijo_search(
    net: &Mlp,
    here: &mut Point,
    trial: &mut Point,
    solver: &mut Minres,
) -> (bool, usize) {
    const ARMIJO: f64 = 1e-4;
    const HALVINGS: usize = 30;
    // ⟨δ, Hg⟩ = ⟨Hδ, g⟩: the directional derivative of φ along δ.
    here.evaluator
        .hessian_vector(net, &here.theta, &solver.x, &mut solver.y);
    let slope = dot(&solver.y, &here.gradient);
    let squared = dot(&here.gradient, &here.gradient);
    if slope.is_nan() || slope >= 0.0 {
        return (false, 1);
    }
    let mut alpha = 1.0;
    for _ in 0..HALVINGS {
        for ((t, x), d) in trial.theta.iter_mut().zip(&here.theta).zip(&solver.x) {
            *t = x + alpha * d;
        }
        trial.evaluate(net);
        let trial_squared = dot(&trial.gradient, &trial.gradient);
        if trial.loss.is_finite() && trial_squared <= squared + 2.0 * ARMIJO * alpha * slope {
            return (true, 1);
        }
        alpha *= 0.5;
    }
    (false, 1)
}

/// What a damped eigen-step minimises.
#[derive(Clone, Copy)]
enum Damped {
    /// `½‖g‖²`, by Levenberg–Marquardt with Gauss–Newton matrix `H²`:
    /// `δ(μ) = −Σ λᵢcᵢ/(λᵢ² + μ) uᵢ`, `μ = ν‖g‖²`, accepted when `‖g‖` falls. Damping in
    /// proportion to ‖g‖² keeps it quadratically convergent near a critical point, even a
    /// degenerate one with an error bound (N. Yamashita & M. Fukushima, *Computing Suppl.*
    /// 15, 239, 2001): there the step becomes Newton's `−H⁺g`.
    GradientNorm,
    /// The loss, by saddle-free Newton: `δ(μ) = −Σ cᵢ/(|λᵢ| + μ) uᵢ`, `μ = ν‖g‖` (in units
    /// of curvature), accepted when the loss falls; Newton's step near a non-degenerate
    /// minimum, where the damping vanishes with the gradient.
    SaddleFree,
}

/// One damped step from a single eigendecomposition of the Hessian at `here`
/// (`H = UΛUᵀ`, `c = Uᵀg`): the step of `rule` is tried with ν multiplied by 4 until it is
/// accepted (at most 40 tries, each one gradient); on success ν is divided by 4 for the next
/// step. Leaves the accepted point in `trial`.
fn damped_eigen_step(
    net: &Mlp,
    data: &Dataset,
    here: &Point,
    trial: &mut Point,
    damping: &mut f64,
    rule: Damped,
) -> bool {
    const TRIES: usize = 40;
    let p = here.theta.len();
    let hessian = dense_hessian(net, &here.theta, data);
    let matrix = Mat::from_fn(p, p, |i, j| hessian[i + j * p]);
    let Ok(eigen) = matrix.self_adjoint_eigen(Side::Lower) else {
        return false;
    };
    let (u, values) = (eigen.U(), eigen.S());
    let coordinates: Vec<f64> = (0..p)
        .map(|j| (0..p).map(|i| u[(i, j)] * here.gradient[i]).sum())
        .collect();
    let squared = dot(&here.gradient, &here.gradient);
    for _ in 0..TRIES {
        trial.theta.copy_from_slice(&here.theta);
        for j in 0..p {
            let (lambda, c) = (values[j], coordinates[j]);
            let factor = match rule {
                Damped::GradientNorm => lambda * c / (lambda * lambda + *damping * squared),
                Damped::SaddleFree => c / (lambda.abs() + *damping * squared.sqrt()),
            };
            for (i, t) in trial.theta.iter_mut().enumerate() {
                *t -= factor * u[(i, j)];
            }
        }
        trial.evaluate(net);
        let better = match rule {
            Damped::GradientNorm => dot(&trial.gradient, &trial.gradient) < squared,
            // Near the minimum the loss stops changing in floating point before the
            // gradient does: an equal loss with a smaller gradient is progress too.
            Damped::SaddleFree => {
                trial.loss < here.loss
                    || (trial.loss <= here.loss && dot(&trial.gradient, &trial.gradient) < squared)
            }
        };
        if trial.loss.is_finite() && better {
            *damping = (*damping / 4.0).max(f64::MIN_POSITIVE);
            return true;
        }
        *damping *= 4.0;
    }
    false
}

/// The order of convergence shown by the last three gradient norms `g₁ > g₂ > g₃` of a
/// history, `ln(g₃/g₂)/ln(g₂/g₁)`: ≈ 1 for linear convergence, ≈ 2 for Newton's quadratic
/// convergence near a non-degenerate critical point; NaN with fewer than three norms.
///
/// ```
/// use stuck::nets::convergence_order;
/// assert!((convergence_order(&[1e-1, 1e-2, 1e-4]) - 2.0).abs() < 1e-12);
/// ```
pub fn convergence_order(history: &[f64]) -> f64 {
    match history {
        [.., a, b, c] => (c / b).ln() / (b / a).ln(),
        _ => f64::NAN,
    }
}

/// `aᵀb`.
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
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
            step: NewtonStep::Minres(60),
            tolerance: 1e-9,
            flatness: 1e-3,
            examples_per_chunk: None,
        }
    }

    /// A 4-3-3 tanh network on iris (cross-entropy, weight decay 10⁻², so minima are
    /// isolated) after `epochs` full-batch GD steps at η = 0.5 from the initialisation of
    /// stream `seed`.
    fn iris_after_gd(seed: u64, epochs: usize) -> (Dataset, Mlp, Vec<f64>) {
        let data = Dataset::iris()
            .split(0.2, &mut chunk_stream(1, "iris", 0, 0))
            .train;
        let net = Mlp::new(&[4, 3, 3], Activation::Tanh, Loss::CrossEntropy, 1e-2);
        let mut theta = net.initialise(1.0, &mut chunk_stream(seed, "init", 0, 0));
        let mut ws = net.workspace(data.examples());
        let mut g = vec![0.0; theta.len()];
        for _ in 0..epochs {
            net.loss_and_gradient(&theta, &data, &mut ws, &mut g);
            theta.iter_mut().zip(&g).for_each(|(t, g)| *t -= 0.5 * g);
        }
        (data, net, theta)
    }

    /// From a point near a minimum with weight decay (so the minimum is isolated), the search
    /// reaches a gradient norm below 10⁻⁹, a point whose Hessian has no negative eigenvalue,
    /// and a loss no higher than the start's (it moves little: the start is close).
    #[test]
    fn from_near_a_minimum_it_finds_the_minimum() {
        let (data, net, theta) = iris_after_gd(2, 3000);
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

    /// From a point where GD looked converged on iris (not a critical point: ‖g‖ is still
    /// far from zero), saddle-free Newton on the loss reaches a minimum: ‖g‖ ≤ 10⁻⁹, no
    /// eigenvalue below −10⁻¹⁰λ_max, and a loss below the start's.
    #[test]
    fn saddle_free_newton_descends_to_a_minimum() {
        let (data, net, theta) = iris_after_gd(3, 200);
        let settings = SearchSettings {
            iterations: 100,
            step: NewtonStep::SaddleFree,
            tolerance: 1e-9,
            flatness: 1e-3,
            examples_per_chunk: None,
        };
        let scale = Spectrum::of(&dense_hessian(&net, &theta, &data), theta.len())
            .unwrap()
            .max();
        let search = nearest_critical_point(&net, &data, &theta, scale, &settings);
        assert_eq!(search.outcome, SearchOutcome::Critical, "{search:?}");
        assert!(search.losses.1 < search.losses.0);
        let end = Spectrum::of(&dense_hessian(&net, &search.theta, &data), theta.len()).unwrap();
        assert_eq!(end.index(1e-10 * end.max()), 0, "λ_min = {}", end.min());
    }

    /// The exact (damped) step from the same start converges quadratically: the last three
    /// gradient norms show order ≥ 1.5, within 8 iterations.
    #[test]
    fn the_exact_step_converges_quadratically() {
        let (data, net, theta) = iris_after_gd(2, 3000);
        // Stop above the rounding floor (≈ 10⁻¹⁵ here), where the order is still Newton's.
        let exact = SearchSettings {
            step: NewtonStep::Exact,
            tolerance: 1e-11,
            ..settings()
        };
        let search = nearest_critical_point(&net, &data, &theta, 1.0, &exact);
        assert_eq!(search.outcome, SearchOutcome::Critical, "{search:?}");
        let order = convergence_order(&search.gradient_history);
        assert!(order >= 1.5, "order {order}: {:?}", search.gradient_history);
        assert!(search.iterations <= 8, "{:?}", search.gradient_history);
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
        // The saddle is degenerate (the hidden biases are free while the output weights are
        // zero), so convergence is linear, not quadratic: a looser tolerance.
        let loose = SearchSettings {
            tolerance: 1e-8,
            ..settings()
        };
        let search = nearest_critical_point(&net, &data, &theta, 1.0, &loose);
        assert_eq!(search.outcome, SearchOutcome::Critical, "{search:?}");
        theta.clone_from(&search.theta);
        let end = Spectrum::of(&dense_hessian(&net, &theta, &data), theta.len()).unwrap();
        assert!(end.index(1e-9) >= 1, "{:?}", end.eigenvalues);
        assert!(
            (search.losses.1 - search.losses.0).abs() < 1e-5,
            "{search:?}"
        );
    }
}
