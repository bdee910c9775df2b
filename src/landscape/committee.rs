//! The soft committee machine learning from a teacher by online SGD: the classic model of a
//! symmetric plateau (D. Saad & S. A. Solla, "On-line learning in soft committee machines",
//! *Phys. Rev. E* 52, 4225, 1995).

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::Objective;
use crate::stats::ZigguratNormal;

/// Largest number of student units (their fields live in a stack buffer of this size).
pub const MAX_UNITS: usize = 16;

/// `g(x) = erf(x/√2)`, the hidden units' activation.
fn activation(x: f64) -> f64 {
    statrs::function::erf::erf(x * std::f64::consts::FRAC_1_SQRT_2)
}

/// `g'(x) = √(2/π)·e^{−x²/2}`.
fn activation_slope(x: f64) -> f64 {
    (2.0 / std::f64::consts::PI).sqrt() * (-0.5 * x * x).exp()
}

/// Student `σ(ξ) = Σᵢ g(Jᵢ·ξ)` (K units) and teacher `ζ(ξ) = Σₙ g(Bₙ·ξ)` (M units) in N
/// input dimensions, inputs `ξ ~ N(0, I_N)`, teacher vectors orthonormal (`Bₙ·Bₘ = δₙₘ`).
///
/// Online SGD on `½(σ − ζ)²` with a fresh example per step (Saad & Solla eq. 3):
/// `Jᵢ ← Jᵢ + (η/N)·g'(xᵢ)(ζ − σ)·ξ`, `xᵢ = Jᵢ·ξ`; time is `α = steps/N`.
///
/// The generalisation error is exact in the order parameters `Q_ik = Jᵢ·J_k`,
/// `R_in = Jᵢ·Bₙ`, `T_nm = Bₙ·Bₘ` (their eq. 5):
///
/// ```text
/// ε_g = (1/π)[Σ_ik asin(Q_ik/√((1+Q_ii)(1+Q_kk))) + Σ_nm asin(T_nm/√((1+T_nn)(1+T_mm)))
///             − 2 Σ_in asin(R_in/√((1+Q_ii)(1+T_nn)))].
/// ```
///
/// From a small random start every student unit learns the same average of the teachers:
/// the **symmetric plateau**, a saddle-like region where ε_g stays put. The symmetry is broken
/// only by the initial differences between units, of order `1/√N`, which grow exponentially
/// at a rate ∝ η; so the plateau lasts `α ≈ (c₁ ln N + c₂)/η` (M. Biehl, P. Riegler &
/// C. Wöhler, *J. Phys. A* 29, 4769, 1996).
#[derive(Debug, Clone)]
pub struct SoftCommittee {
    inputs: usize,
    student: Vec<f64>,
    teacher: Vec<f64>,
    students: usize,
    teachers: usize,
    normal: ZigguratNormal,
    example: Vec<f64>,
}

impl SoftCommittee {
    /// A teacher of `teachers` orthonormal random vectors and a student of `students` units
    /// with independent `N(0, q0/N)` weights (so `Q_ii ≈ q0`, `R_in = O(√(q0/N))`).
    ///
    /// # Panics
    /// If `students > MAX_UNITS` or `teachers > inputs` (no orthonormal teacher exists).
    pub fn new<R: Rng + ?Sized>(
        inputs: usize,
        students: usize,
        teachers: usize,
        q0: f64,
        rng: &mut R,
    ) -> Self {
        assert!(students <= MAX_UNITS && teachers <= inputs);
        let mut teacher: Vec<f64> = (0..teachers * inputs)
            .map(|_| rng.sample(StandardNormal))
            .collect();
        // Gram–Schmidt: orthonormal rows.
        for n in 0..teachers {
            for m in 0..n {
                let dot = dot(
                    &teacher[n * inputs..(n + 1) * inputs],
                    &teacher[m * inputs..(m + 1) * inputs],
                );
                for j in 0..inputs {
                    teacher[n * inputs + j] -= dot * teacher[m * inputs + j];
                }
            }
            let row = &mut teacher[n * inputs..(n + 1) * inputs];
            let length = dot(row, row).sqrt();
            row.iter_mut().for_each(|b| *b /= length);
        }
        let sd = (q0 / inputs as f64).sqrt();
        let student = (0..students * inputs)
            .map(|_| sd * rng.sample::<f64, _>(StandardNormal))
            .collect();
        SoftCommittee {
            inputs,
            student,
            teacher,
            students,
            teachers,
            normal: ZigguratNormal::new(),
            example: vec![0.0; inputs],
        }
    }

    /// One online SGD step on a fresh example with learning rate `eta` (the update is
    /// `η/N` times the gradient, so α = steps/N is the natural time). Allocation-free;
    /// returns false if an update was NaN or infinite (weights that overflow make the next
    /// step's update non-finite, so a diverging run is caught within one step).
    pub fn step<R: Rng + ?Sized>(&mut self, eta: f64, rng: &mut R) -> bool {
        let n = self.inputs;
        let normal = self.normal;
        for x in self.example.iter_mut() {
            *x = normal.sample(rng);
        }
        let target: f64 = self
            .teacher
            .chunks_exact(n)
            .map(|b| activation(dot(b, &self.example)))
            .sum();
        let mut fields = [0.0; MAX_UNITS];
        let mut output = 0.0;
        for (field, j) in fields.iter_mut().zip(self.student.chunks_exact(n)) {
            *field = dot(j, &self.example);
            output += activation(*field);
        }
        let scale = eta / n as f64 * (target - output);
        let mut finite = true;
        for (field, j) in fields.iter().zip(self.student.chunks_exact_mut(n)) {
            let delta = scale * activation_slope(*field);
            for (w, x) in j.iter_mut().zip(&self.example) {
                *w += delta * x;
            }
            finite &= delta.is_finite();
        }
        finite
    }

    /// The exact generalisation error ε_g from the order parameters (allocation-free,
    /// `O((K² + KM)·N)`).
    pub fn generalisation_error(&self) -> f64 {
        generalisation_error(
            &self.student,
            &self.teacher,
            self.inputs,
            self.students,
            self.teachers,
        )
    }

    /// The population loss ε_g as a function of the student's weights, with this machine's
    /// teacher, and the student's current weights: the landscape that gradient descent
    /// (rather than online SGD) crosses.
    pub fn population_loss(&self) -> (CommitteeLoss, Vec<f64>) {
        let loss = CommitteeLoss {
            inputs: self.inputs,
            students: self.students,
            teachers: self.teachers,
            teacher: self.teacher.clone(),
        };
        (loss, self.student.clone())
    }

    /// Input dimension N.
    pub fn inputs(&self) -> usize {
        self.inputs
    }
}

/// ε_g of the student `w` (K rows of length N) against the orthonormal teacher `b` (M rows),
/// Saad & Solla's eq. 5 (see [`SoftCommittee`]).
fn generalisation_error(w: &[f64], b: &[f64], n: usize, students: usize, teachers: usize) -> f64 {
    let mut norms = [0.0; MAX_UNITS];
    for (i, q) in norms.iter_mut().enumerate().take(students) {
        *q = dot(unit(w, n, i), unit(w, n, i));
    }
    let mut total = 0.0;
    for i in 0..students {
        let qii = norms[i];
        total += pair_term(qii, qii, qii);
        for (k, &qkk) in norms.iter().enumerate().take(i) {
            total += 2.0 * pair_term(dot(unit(w, n, i), unit(w, n, k)), qii, qkk);
        }
        for t in 0..teachers {
            total -= 2.0 * pair_term(dot(unit(w, n, i), unit(b, n, t)), qii, 1.0);
        }
    }
    // T = I: the teacher–teacher sum is M·asin(1/2) = Mπ/6.
    total += teachers as f64 * std::f64::consts::FRAC_PI_6;
    total / std::f64::consts::PI
}

/// `A(c, a, b) = asin(c/√((1+a)(1+b)))`: π/2 times `⟨g(u)g(v)⟩` for jointly Gaussian u, v
/// with variances a, b and covariance c.
fn pair_term(c: f64, a: f64, b: f64) -> f64 {
    (c / ((1.0 + a) * (1.0 + b)).sqrt()).asin()
}

/// The soft committee's population loss `ε_g(J)` (Saad & Solla eq. 5) as an [`Objective`] in
/// the student's K·N weights: gradient descent on it is the mean of the online SGD step
/// (`E[ΔJᵢ] = −(η/N)·∂ε_g/∂Jᵢ`), and it has the same symmetric plateau.
///
/// The gradient, with `A(c, a, b) = asin(c/√((1+a)(1+b)))`, `Δ = √((1+a)(1+b) − c²)`,
/// `∂A/∂c = 1/Δ`, `∂A/∂a = −c/(2(1+a)Δ)` and, on the diagonal,
/// `d/dq A(q, q, q) = 1/((1+q)√(1+2q))`:
///
/// ```text
/// π ∂ε_g/∂Jᵢ = 2Jᵢ/((1+Qᵢᵢ)√(1+2Qᵢᵢ))
///            + 2 Σ_{k≠i} [J_k − Qᵢₖ Jᵢ/(1+Qᵢᵢ)] / √((1+Qᵢᵢ)(1+Q_kk) − Qᵢₖ²)
///            − 2 Σₙ [Bₙ − Rᵢₙ Jᵢ/(1+Qᵢᵢ)] / √(2(1+Qᵢᵢ) − Rᵢₙ²).
/// ```
///
/// # Example
/// ```
/// use stuck::landscape::{Objective, SoftCommittee};
/// let mut rng = stuck::mc::chunk_stream(1, "doc", 0, 0);
/// let machine = SoftCommittee::new(32, 2, 2, 0.1, &mut rng);
/// let (loss, student) = machine.population_loss();
/// assert_eq!(loss.dimension(), 64);
/// assert_eq!(loss.value(&student), machine.generalisation_error());
/// ```
#[derive(Debug, Clone)]
pub struct CommitteeLoss {
    inputs: usize,
    students: usize,
    teachers: usize,
    teacher: Vec<f64>,
}

impl Objective for CommitteeLoss {
    fn dimension(&self) -> usize {
        self.students * self.inputs
    }

    fn value(&self, x: &[f64]) -> f64 {
        generalisation_error(x, &self.teacher, self.inputs, self.students, self.teachers)
    }

    fn gradient(&self, x: &[f64], out: &mut [f64]) {
        let n = self.inputs;
        let mut norms = [0.0; MAX_UNITS];
        for (i, q) in norms.iter_mut().enumerate().take(self.students) {
            *q = dot(unit(x, n, i), unit(x, n, i));
        }
        let scale = 2.0 / std::f64::consts::PI;
        for i in 0..self.students {
            let qii = norms[i];
            // Coefficient of Jᵢ itself, then the other units' and the teachers' rows.
            let mut own = 1.0 / ((1.0 + qii) * (1.0 + 2.0 * qii).sqrt());
            let row = &mut out[i * n..(i + 1) * n];
            row.fill(0.0);
            for (k, &qkk) in norms.iter().enumerate().take(self.students) {
                if k == i {
                    continue;
                }
                let qik = dot(unit(x, n, i), unit(x, n, k));
                let inverse = 1.0 / ((1.0 + qii) * (1.0 + qkk) - qik * qik).sqrt();
                own -= qik / (1.0 + qii) * inverse;
                axpy(inverse, unit(x, n, k), row);
            }
            for t in 0..self.teachers {
                let r = dot(unit(x, n, i), unit(&self.teacher, n, t));
                let inverse = 1.0 / (2.0 * (1.0 + qii) - r * r).sqrt();
                own += r / (1.0 + qii) * inverse;
                axpy(-inverse, unit(&self.teacher, n, t), row);
            }
            for (g, w) in row.iter_mut().zip(unit(x, n, i)) {
                *g = scale * (*g + own * w);
            }
        }
    }
}

/// `y ← y + a·x`.
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y += a * x);
}

/// Row `i` of a row-major matrix with `n` columns.
fn unit(w: &[f64], n: usize, i: usize) -> &[f64] {
    &w[i * n..(i + 1) * n]
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::chunk_stream;

    #[test]
    fn generalisation_error_matches_a_monte_carlo_average() {
        // ε_g = ½⟨(σ − ζ)²⟩ over fresh inputs; 200 000 samples give a standard error
        // computed alongside, and the closed form must lie within 5 of them.
        let mut rng = chunk_stream(8, "committee", 0, 0);
        let machine = SoftCommittee::new(20, 3, 2, 1.0, &mut rng);
        let exact = machine.generalisation_error();
        let n = machine.inputs();
        let (mut sum, mut sum2) = (0.0, 0.0);
        let samples = 200_000;
        let mut xi = vec![0.0; n];
        for _ in 0..samples {
            xi.iter_mut()
                .for_each(|x| *x = rng.sample::<f64, _>(StandardNormal));
            let field = |w: &[f64], i: usize| dot(&w[i * n..(i + 1) * n], &xi);
            let sigma: f64 = (0..3).map(|i| activation(field(&machine.student, i))).sum();
            let zeta: f64 = (0..2).map(|t| activation(field(&machine.teacher, t))).sum();
            let e = 0.5 * (sigma - zeta) * (sigma - zeta);
            sum += e;
            sum2 += e * e;
        }
        let mean = sum / samples as f64;
        let se = ((sum2 / samples as f64 - mean * mean) / samples as f64).sqrt();
        assert!((mean - exact).abs() < 5.0 * se, "{mean} +- {se} vs {exact}");
    }

    #[test]
    fn population_gradient_matches_central_differences() {
        // Central differences with step h = 1e-5 err by O(h²·f‴) ≈ 1e-10 plus rounding
        // O(ε·f/h) ≈ 1e-11; the tolerance 1e-7 of the largest component is far above both
        // and far below any error in a term of the formula.
        let mut rng = chunk_stream(10, "committee", 0, 0);
        for (students, teachers, q0) in [(2, 2, 0.1), (3, 2, 1.0), (1, 3, 0.5)] {
            let machine = SoftCommittee::new(12, students, teachers, q0, &mut rng);
            let (loss, x) = machine.population_loss();
            let mut gradient = vec![0.0; x.len()];
            loss.gradient(&x, &mut gradient);
            let largest = gradient.iter().fold(0.0f64, |m, g| m.max(g.abs()));
            let h = 1e-5;
            for j in 0..x.len() {
                let (mut up, mut down) = (x.clone(), x.clone());
                up[j] += h;
                down[j] -= h;
                let numeric = (loss.value(&up) - loss.value(&down)) / (2.0 * h);
                assert!(
                    (numeric - gradient[j]).abs() < 1e-7 * largest,
                    "K={students} M={teachers} component {j}: {numeric} vs {}",
                    gradient[j]
                );
            }
        }
    }

    #[test]
    fn population_loss_vanishes_at_the_teacher_and_is_the_machines_error_elsewhere() {
        let mut rng = chunk_stream(11, "committee", 0, 0);
        let machine = SoftCommittee::new(16, 2, 2, 0.1, &mut rng);
        let (loss, student) = machine.population_loss();
        assert_eq!(loss.value(&student), machine.generalisation_error());
        let teacher = loss.teacher.clone();
        assert!(loss.value(&teacher).abs() < 1e-14);
        let mut gradient = vec![0.0; teacher.len()];
        loss.gradient(&teacher, &mut gradient);
        assert!(gradient.iter().all(|g| g.abs() < 1e-14), "{gradient:?}");
    }

    #[test]
    fn gradient_descent_on_the_population_loss_crosses_a_plateau() {
        // The symmetric plateau: from a small start, ε_g first falls to a value (≈ 0.0116) it
        // then holds, changing by under 1 % per 10 steps, for dozens of steps (39 windows of
        // the 111 steps measured) before the units specialise and it falls below 10⁻³; a loss
        // without a plateau would fall through it. Unit-rate GD moves like online SGD over
        // α = steps.
        let mut rng = chunk_stream(12, "committee", 0, 0);
        let machine = SoftCommittee::new(256, 2, 2, 0.001, &mut rng);
        let (loss, mut x) = machine.population_loss();
        let mut gradient = vec![0.0; x.len()];
        let mut trace = vec![loss.value(&x)];
        while *trace.last().unwrap() > 1e-3 && trace.len() < 5_000 {
            loss.gradient(&x, &mut gradient);
            x.iter_mut().zip(&gradient).for_each(|(x, g)| *x -= g);
            trace.push(loss.value(&x));
        }
        assert!(
            *trace.last().unwrap() <= 1e-3,
            "no convergence in 5 000 steps"
        );
        let flat = trace
            .windows(11)
            .filter(|w| (w[10] - w[0]).abs() < 0.01 * w[0])
            .count();
        assert!(flat >= 30, "{flat} flat windows in {} steps", trace.len());
    }

    #[test]
    fn online_sgd_learns_the_teacher_after_a_plateau() {
        let mut rng = chunk_stream(9, "committee", 0, 0);
        let mut machine = SoftCommittee::new(50, 2, 2, 0.1, &mut rng);
        let start = machine.generalisation_error();
        let mut trace = Vec::new();
        for _ in 0..2000 {
            for _ in 0..50 {
                assert!(machine.step(1.0, &mut rng));
            }
            trace.push(machine.generalisation_error());
        }
        assert!(*trace.last().unwrap() < 1e-3 * start, "{trace:?}");
    }
}
