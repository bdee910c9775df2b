//! Hypothesis tests: exact binomial, z, chi-square goodness of fit and homogeneity,
//! Kolmogorov–Smirnov, and the consistency of independent estimates with their error bars.

use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, Discrete, DiscreteCDF, StudentsT};

use super::StatsError;
use super::proportion::standard_normal;

/// Outcome of a test: its statistic and p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestOutcome {
    /// The test statistic (its meaning depends on the test).
    pub statistic: f64,
    /// Probability under H₀ of a statistic at least as extreme.
    pub p_value: f64,
}

/// Exact two-sided binomial test of H₀: P(success) = `p0`, as R's `binom.test`: the p-value
/// sums the probabilities of all outcomes no more likely than the one observed (with R's
/// relative tolerance 1 + 1e-7). The statistic is the observed count.
///
/// ```
/// use stuck::stats::binomial_test;
/// // R: binom.test(682, 925, p = 0.75)$p.value = 0.3825
/// let t = binomial_test(682, 925, 0.75).unwrap();
/// assert!((t.p_value - 0.3824916).abs() < 1e-6);
/// ```
pub fn binomial_test(successes: u64, trials: u64, p0: f64) -> Result<TestOutcome, StatsError> {
    if !(p0 > 0.0 && p0 < 1.0) || successes > trials {
        return Err(StatsError::InvalidArgument(format!(
            "binomial test needs 0 < p0 < 1 and k ≤ n, got p0 = {p0}, k = {successes}, n = {trials}"
        )));
    }
    let law = Binomial::new(p0, trials).map_err(|e| StatsError::Distribution(e.to_string()))?;
    let ln_observed = law.ln_pmf(successes) + 1e-7f64.ln_1p();
    let mean = p0 * trials as f64;
    let k = successes;
    let p_value = if (k as f64 - mean).abs() < 1e-300 {
        1.0
    } else if (k as f64) < mean {
        // Count the outcomes above the mean at most as likely: the first index above the
        // mode whose pmf drops to ln_observed, found by bisection on the decreasing tail.
        let start = mean.ceil() as u64;
        let first = first_index_where(start, trials, |j| law.ln_pmf(j) <= ln_observed);
        law.cdf(k)
            + if first > trials {
                0.0
            } else {
                law.sf(first - 1)
            }
    } else {
        let end = mean.floor() as u64;
        // Largest j ≤ end with pmf ≤ observed: outcomes 0..=j are in the rejection region.
        let last = last_index_where(end, |j| law.ln_pmf(j) <= ln_observed);
        let lower = last.map_or(0.0, |j| law.cdf(j));
        lower + if k == 0 { 1.0 } else { law.sf(k - 1) }
    };
    Ok(TestOutcome {
        statistic: successes as f64,
        p_value: p_value.min(1.0),
    })
}

/// Smallest `j` in `start..=end` with `pred(j)` for a predicate monotone false→true;
/// `end + 1` when there is none.
fn first_index_where(start: u64, end: u64, pred: impl Fn(u64) -> bool) -> u64 {
    let (mut lo, mut hi) = (start, end + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) { hi = mid } else { lo = mid + 1 }
    }
    lo
}

/// Largest `j` in `0..=end` with `pred(j)` for a predicate monotone true→false.
fn last_index_where(end: u64, pred: impl Fn(u64) -> bool) -> Option<u64> {
    let first_false = first_index_where(0, end, |j| !pred(j));
    first_false.checked_sub(1)
}

/// Spearman's rank correlation of paired samples (ties get their average rank; ρ is Pearson's
/// correlation of the ranks) with the two-sided p-value of `t = ρ√((n − 2)/(1 − ρ²))` on
/// n − 2 degrees of freedom, as SciPy's `spearmanr`. The statistic is ρ. Needs n ≥ 3 pairs
/// and neither sample constant.
///
/// ```
/// use stuck::stats::spearman;
/// // SciPy: spearmanr(range(1, 11), [2, 1, 4, 3, 7, 8, 6, 5, 10, 9]) = (0.854545, 0.0016368)
/// let x: Vec<f64> = (1..=10).map(f64::from).collect();
/// let y = [2.0, 1.0, 4.0, 3.0, 7.0, 8.0, 6.0, 5.0, 10.0, 9.0];
/// let t = spearman(&x, &y).unwrap();
/// assert!((t.statistic - 0.8545454545).abs() < 1e-9);
/// assert!((t.p_value - 0.0016368033).abs() < 1e-9);
/// ```
pub fn spearman(x: &[f64], y: &[f64]) -> Result<TestOutcome, StatsError> {
    if x.len() != y.len() || x.len() < 3 {
        return Err(StatsError::InvalidArgument(format!(
            "Spearman needs two samples of equal length ≥ 3, got {} and {}",
            x.len(),
            y.len()
        )));
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let mean = (n + 1.0) / 2.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mean) * (b - mean);
        sxx += (a - mean) * (a - mean);
        syy += (b - mean) * (b - mean);
    }
    if sxx == 0.0 || syy == 0.0 {
        return Err(StatsError::InvalidArgument(
            "Spearman needs samples that are not constant".into(),
        ));
    }
    let rho = (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0);
    let p_value = if rho.abs() >= 1.0 {
        0.0
    } else {
        let t = rho * ((n - 2.0) / (1.0 - rho * rho)).sqrt();
        let law = StudentsT::new(0.0, 1.0, n - 2.0)
            .map_err(|e| StatsError::Distribution(e.to_string()))?;
        2.0 * law.sf(t.abs())
    };
    Ok(TestOutcome {
        statistic: rho,
        p_value,
    })
}

/// Ranks 1..=n, ties sharing their average rank.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let average = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = average;
        }
        start = end;
    }
    ranks
}

/// Two-sided z test: `p = 2(1 − Φ(|z|))` for `z = (estimate − null)/se`.
pub fn z_test(estimate: f64, null: f64, standard_error: f64) -> TestOutcome {
    let z = (estimate - null) / standard_error;
    TestOutcome {
        statistic: z,
        p_value: 2.0 * standard_normal().sf(z.abs()),
    }
}

/// Whether studentised errors `tₖ = (xₖ − truth)/seₖ`, each from a standard error estimated
/// with `dof` degrees of freedom (e.g. the mean of dof + 1 runs), are as large as honest
/// error bars make them: each is mapped to a standard normal score through the Student-t
/// law, `uₖ = Φ⁻¹(F_t(tₖ))`, and `Σ uₖ²` is compared with χ²_K, two-sided (a small p-value
/// from a large sum means error bars too small or a bias; from a small sum, error bars
/// too large). The mapping matters: with few runs per estimate `E t² = dof/(dof − 2)`, and a
/// plain χ² on the t's would reject honest error bars.
///
/// ```
/// use stuck::stats::studentised_error_test;
/// let t = studentised_error_test(&[0.3, -1.1, 0.8, 0.1], 9.0).unwrap();
/// assert!(t.p_value > 0.1);
/// ```
pub fn studentised_error_test(t_scores: &[f64], dof: f64) -> Result<TestOutcome, StatsError> {
    if t_scores.is_empty() || t_scores.iter().any(|t| !t.is_finite()) || dof.is_nan() || dof <= 0.0
    {
        return Err(StatsError::InvalidArgument(
            "needs finite t-scores and positive degrees of freedom".into(),
        ));
    }
    let t_law =
        StudentsT::new(0.0, 1.0, dof).map_err(|e| StatsError::Distribution(e.to_string()))?;
    let normal = standard_normal();
    let statistic = t_scores
        .iter()
        .map(|&t| {
            // Through the smaller tail, so that far-out scores keep their size.
            let u = if t > 0.0 {
                -normal.inverse_cdf(t_law.sf(t))
            } else {
                normal.inverse_cdf(t_law.cdf(t))
            };
            u * u
        })
        .sum();
    let law = ChiSquared::new(t_scores.len() as f64)
        .map_err(|e| StatsError::Distribution(e.to_string()))?;
    Ok(TestOutcome {
        statistic,
        p_value: (2.0 * law.cdf(statistic).min(law.sf(statistic))).min(1.0),
    })
}

/// Pearson's chi-square goodness-of-fit test of observed counts against expected
/// probabilities: `X² = Σ (Oᵢ − Eᵢ)²/Eᵢ` with `Eᵢ = N pᵢ`, on `k − 1` degrees of freedom.
/// Adjacent categories are pooled until every `Eᵢ ≥ 5` (the usual validity rule).
///
/// ```
/// use stuck::stats::chi_square_goodness_of_fit;
/// let t = chi_square_goodness_of_fit(&[50, 50], &[0.5, 0.5]).unwrap();
/// assert_eq!(t.statistic, 0.0);
/// ```
pub fn chi_square_goodness_of_fit(
    observed: &[u64],
    probabilities: &[f64],
) -> Result<TestOutcome, StatsError> {
    if observed.len() != probabilities.len() {
        return Err(StatsError::InvalidArgument(
            "observed and expected lengths differ".into(),
        ));
    }
    let total = observed.iter().sum::<u64>() as f64;
    let bins = observed
        .iter()
        .zip(probabilities)
        .map(|(&o, p)| ([o as f64], p * total));
    let pooled = pool_small_bins(bins);
    let statistic = pooled.iter().map(|([o], e)| (o - e).powi(2) / e).sum();
    chi_square_outcome(statistic, pooled.len().saturating_sub(1))
}

/// Pearson's chi-square test that two histograms over the same bins come from one law
/// (a 2×k contingency table, `k − 1` degrees of freedom, adjacent bins pooled until the
/// smaller sample's expected count is at least 5 in each).
///
/// ```
/// use stuck::stats::chi_square_homogeneity;
/// let t = chi_square_homogeneity(&[30, 70], &[300, 700]).unwrap();
/// assert!(t.statistic.abs() < 1e-12 && t.p_value > 0.99);
/// ```
pub fn chi_square_homogeneity(first: &[u64], second: &[u64]) -> Result<TestOutcome, StatsError> {
    if first.len() != second.len() {
        return Err(StatsError::InvalidArgument(
            "histograms differ in length".into(),
        ));
    }
    let (n1, n2) = (
        first.iter().sum::<u64>() as f64,
        second.iter().sum::<u64>() as f64,
    );
    if n1 == 0.0 || n2 == 0.0 {
        return Err(StatsError::InvalidArgument("an empty histogram".into()));
    }
    let smaller_share = n1.min(n2) / (n1 + n2);
    let bins = first
        .iter()
        .zip(second)
        .map(|(&a, &b)| ([a as f64, b as f64], (a + b) as f64 * smaller_share));
    let pooled = pool_small_bins(bins);
    let mut statistic = 0.0;
    for ([a, b], _) in &pooled {
        let column = a + b;
        for (observed, n) in [(a, n1), (b, n2)] {
            let expected = column * n / (n1 + n2);
            statistic += (observed - expected).powi(2) / expected;
        }
    }
    chi_square_outcome(statistic, pooled.len().saturating_sub(1))
}

/// Pools adjacent `(observed, expected)` bins left to right until each pooled expected count
/// is at least 5; a short remainder joins the last pooled bin.
fn pool_small_bins<const K: usize>(
    bins: impl Iterator<Item = ([f64; K], f64)>,
) -> Vec<([f64; K], f64)> {
    let mut pooled: Vec<([f64; K], f64)> = Vec::new();
    let mut current = ([0.0; K], 0.0);
    for (bin, expected) in bins {
        add_bin(&mut current, (bin, expected));
        if current.1 >= 5.0 {
            pooled.push(std::mem::replace(&mut current, ([0.0; K], 0.0)));
        }
    }
    let remainder_is_empty = current.1 == 0.0 && current.0.iter().all(|v| *v == 0.0);
    match pooled.last_mut() {
        _ if remainder_is_empty => {}
        Some(last) => add_bin(last, current),
        None => pooled.push(current),
    }
    pooled
}

fn add_bin<const K: usize>(into: &mut ([f64; K], f64), bin: ([f64; K], f64)) {
    for (acc, v) in into.0.iter_mut().zip(bin.0) {
        *acc += v;
    }
    into.1 += bin.1;
}

/// Whether K independent estimates of one quantity scatter as their reported standard
/// errors say: Cochran's `Q = Σ wₖ (xₖ − x̄)²` with `wₖ = 1/seₖ²` and `x̄ = Σ wₖ xₖ / Σ wₖ` is
/// χ² with K − 1 degrees of freedom when the errors are honest (W. G. Cochran, *Biometrics*
/// 10, 101, 1954, doi:10.2307/3001666). Two-sided: a p-value near 0 from a large `Q` means
/// error bars too small, from a small `Q` error bars too large. Estimates with a non-finite
/// or non-positive error are an error.
///
/// ```
/// use stuck::stats::error_bar_consistency;
/// let t = error_bar_consistency(&[(1.0, 0.1), (1.1, 0.1), (0.95, 0.1)]).unwrap();
/// assert!((t.statistic - 7.0 / 6.0).abs() < 1e-12);
/// assert!(t.p_value > 0.5);
/// ```
pub fn error_bar_consistency(estimates: &[(f64, f64)]) -> Result<TestOutcome, StatsError> {
    if estimates.len() < 2
        || estimates
            .iter()
            .any(|&(x, se)| !(x.is_finite() && se > 0.0 && se.is_finite()))
    {
        return Err(StatsError::InvalidArgument(
            "needs at least two finite estimates with positive finite standard errors".into(),
        ));
    }
    let weights: Vec<f64> = estimates.iter().map(|(_, se)| se.powi(-2)).collect();
    let total: f64 = weights.iter().sum();
    let mean = estimates
        .iter()
        .zip(&weights)
        .map(|((x, _), w)| w * x)
        .sum::<f64>()
        / total;
    let statistic = estimates
        .iter()
        .zip(&weights)
        .map(|((x, _), w)| w * (x - mean).powi(2))
        .sum();
    let law = ChiSquared::new((estimates.len() - 1) as f64)
        .map_err(|e| StatsError::Distribution(e.to_string()))?;
    Ok(TestOutcome {
        statistic,
        p_value: (2.0 * law.cdf(statistic).min(law.sf(statistic))).min(1.0),
    })
}

fn chi_square_outcome(statistic: f64, dof: usize) -> Result<TestOutcome, StatsError> {
    if dof == 0 {
        return Ok(TestOutcome {
            statistic,
            p_value: 1.0,
        });
    }
    let law = ChiSquared::new(dof as f64).map_err(|e| StatsError::Distribution(e.to_string()))?;
    Ok(TestOutcome {
        statistic,
        p_value: law.sf(statistic),
    })
}

/// One-sample Kolmogorov–Smirnov test of `samples` against a continuous CDF.
///
/// Statistic `D = supₓ |Fₙ(x) − F(x)|`; p-value from Kolmogorov's limit law
/// `Q(λ) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2j²λ²}` at `λ = (√n + 0.12 + 0.11/√n)·D`
/// (Stephens' small-sample correction; Press et al., *Numerical Recipes*, 3rd ed., §14.3.3),
/// accurate to about 1e-3 in p for n ≥ 10. `samples` need not be sorted.
///
/// ```
/// use stuck::stats::kolmogorov_smirnov;
/// let uniform: Vec<f64> = (0..100).map(|i| (i as f64 + 0.5) / 100.0).collect();
/// let t = kolmogorov_smirnov(&uniform, |x| x.clamp(0.0, 1.0)).unwrap();
/// assert!(t.p_value > 0.99);
/// ```
pub fn kolmogorov_smirnov(
    samples: &[f64],
    cdf: impl Fn(f64) -> f64,
) -> Result<TestOutcome, StatsError> {
    if samples.is_empty() || samples.iter().any(|x| x.is_nan()) {
        return Err(StatsError::InvalidArgument(
            "KS test needs at least one sample and no NaN".into(),
        ));
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let statistic = sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).max((i + 1) as f64 / n - f)
        })
        .fold(0.0, f64::max);
    Ok(TestOutcome {
        statistic,
        p_value: kolmogorov_p_value(statistic, sorted.len() as u64),
    })
}

/// The p-value of a one-sample KS distance `d` from `n` samples (Kolmogorov's limit law with
/// Stephens' correction, as in [`kolmogorov_smirnov`]).
pub fn kolmogorov_p_value(d: f64, n: u64) -> f64 {
    let n = n as f64;
    kolmogorov_survival((n.sqrt() + 0.12 + 0.11 / n.sqrt()) * d)
}

/// Kolmogorov's limiting survival function `Q(λ) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2j²λ²}`.
fn kolmogorov_survival(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let mut sum = 0.0;
    for j in 1..=100 {
        let j = j as f64;
        let term = (-2.0 * j * j * lambda * lambda).exp();
        sum += if j as u64 % 2 == 1 { term } else { -term };
        if term < 1e-16 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {

    /// Ties get average ranks: SciPy's spearmanr([1,2,2,3,4,5,6,7], [1,3,2,2,5,4,8,7]) =
    /// (0.8975903614, 0.0024831007).
    #[test]
    fn spearman_with_ties_matches_scipy() {
        let x = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        let y = [1.0, 3.0, 2.0, 2.0, 5.0, 4.0, 8.0, 7.0];
        let t = spearman(&x, &y).unwrap();
        assert!((t.statistic - 0.8975903614457831).abs() < 1e-12);
        assert!((t.p_value - 0.002483100689133018).abs() < 1e-10);
        assert!(spearman(&x, &[1.0; 8]).is_err());
    }

    use super::*;

    #[test]
    fn binomial_test_matches_r() {
        // R: binom.test(7, 20)$p.value; binom.test(3, 1000, 0.01)$p.value;
        // binom.test(682, 925, 0.75)$p.value.
        let cases = [
            (7, 20, 0.5, 0.26317596435546875),
            (3, 1000, 0.01, 0.023905236502022795),
            (682, 925, 0.75, 0.3824915595748517),
        ];
        for (k, n, p0, expected) in cases {
            let p = binomial_test(k, n, p0).unwrap().p_value;
            assert!(
                (p - expected).abs() < 1e-9,
                "{k}/{n} at {p0}: {p} vs {expected}"
            );
        }
        assert!(binomial_test(3, 2, 0.5).is_err());
        assert!(binomial_test(1, 2, 0.0).is_err());
    }

    #[test]
    fn binomial_test_of_tiny_null() {
        // 2^-40 with 1e6 trials: seeing 0 is likely, seeing 1 is very unlikely.
        let p0 = 2f64.powi(-40);
        assert!(binomial_test(0, 1_000_000, p0).unwrap().p_value > 0.99);
        assert!(binomial_test(1, 1_000_000, p0).unwrap().p_value < 1e-5);
    }

    #[test]
    fn z_test_known_values() {
        let t = z_test(1.96, 0.0, 1.0);
        assert!((t.p_value - 0.04999579).abs() < 1e-7);
    }

    #[test]
    fn chi_square_matches_reference() {
        // Fair die, counts 16 18 16 14 12 24: X² = 5.12, df 5, p = 0.401412
        // (scipy.stats.chisquare, R chisq.test).
        let t = chi_square_goodness_of_fit(&[16, 18, 16, 14, 12, 24], &[1.0 / 6.0; 6]).unwrap();
        assert!((t.statistic - 5.12).abs() < 1e-12);
        assert!((t.p_value - 0.4014115932460956).abs() < 1e-9);
        // Pooling: tiny expected bins merge, so a dominant bin still yields a valid test.
        let t = chi_square_goodness_of_fit(&[990, 9, 1], &[0.99, 0.009, 0.001]).unwrap();
        assert!(t.p_value > 0.5);
    }

    #[test]
    fn homogeneity_detects_difference() {
        // scipy chi2_contingency(correction=False): X² = 20.20202, p = 6.96793e-6.
        let t = chi_square_homogeneity(&[500, 500], &[400, 600]).unwrap();
        assert!((t.statistic - 20.2020202020202).abs() < 1e-9);
        assert!((t.p_value - 6.96793107284983e-06).abs() < 1e-12);
        assert!(chi_square_homogeneity(&[1], &[1, 2]).is_err());
    }

    #[test]
    fn ks_against_exact_distribution() {
        // scipy.stats.kstwo.sf(0.2, 50) = 0.031439, kstwo.sf(0.1, 200) = 0.034110;
        // Stephens' correction is within 2e-3 of the exact law there.
        assert!(
            (kolmogorov_survival((50f64.sqrt() + 0.12 + 0.11 / 50f64.sqrt()) * 0.2) - 0.031439)
                .abs()
                < 2e-3
        );
        assert!(
            (kolmogorov_survival((200f64.sqrt() + 0.12 + 0.11 / 200f64.sqrt()) * 0.1) - 0.034110)
                .abs()
                < 2e-3
        );
        let shifted: Vec<f64> = (0..200).map(|i| (i as f64 + 0.5) / 200.0 * 0.8).collect();
        assert!(
            kolmogorov_smirnov(&shifted, |x| x.clamp(0.0, 1.0))
                .unwrap()
                .p_value
                < 1e-6
        );
        assert!(kolmogorov_smirnov(&[], |x| x).is_err());
    }
}
