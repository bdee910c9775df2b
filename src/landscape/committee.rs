//! The soft committee machine learning from a teacher by online SGD: the classic model of a
//! symmetric plateau (D. Saad & S. A. Solla, "On-line learning in soft committee machines",
//! *Phys. Rev. E* 52, 4225, 1995).

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

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
        let n = self.inputs;
        // ⟨g(u)g(v)⟩·π/2 for jointly Gaussian u, v with these (co)variances.
        let correlation = |c: f64, uu: f64, vv: f64| (c / ((1.0 + uu) * (1.0 + vv)).sqrt()).asin();
        let mut norms = [0.0; MAX_UNITS];
        for (i, q) in norms.iter_mut().enumerate().take(self.students) {
            *q = dot(unit(&self.student, n, i), unit(&self.student, n, i));
        }
        let mut total = 0.0;
        for i in 0..self.students {
            let qii = norms[i];
            total += correlation(qii, qii, qii);
            for (k, &qkk) in norms.iter().enumerate().take(i) {
                let qik = dot(unit(&self.student, n, i), unit(&self.student, n, k));
                total += 2.0 * correlation(qik, qii, qkk);
            }
            for t in 0..self.teachers {
                let r = dot(unit(&self.student, n, i), unit(&self.teacher, n, t));
                total -= 2.0 * correlation(r, qii, 1.0);
            }
        }
        // T = I: the teacher–teacher sum is M·asin(1/2) = Mπ/6.
        total += self.teachers as f64 * std::f64::consts::FRAC_PI_6;
        total / std::f64::consts::PI
    }

    /// Input dimension N.
    pub fn inputs(&self) -> usize {
        self.inputs
    }
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
