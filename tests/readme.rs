//! The README's quoted numbers are checked against the outputs they quote: the degenerate-trap
//! section against the golden quick CSV (which `cell_keys.rs` checks byte for byte against a
//! fresh quick run), every other scenario's quick paragraph against a fresh quick run of it
//! (about 7 CPU-minutes in all), every paper paragraph (hessian-signs, saddle-escape, well-escape,
//! plateau-crossing, convergence-audit, critical-volume, critical-census, remedies) against the
//! CSVs and the verdicts in `results/`, and the set-up section's list of files against a quick
//! run's manifest.

mod common;

use std::path::Path;

use common::{SMALL, stuck};

fn readme_section(heading: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find(heading).expect("section present");
    let rest = &readme[start + heading.len()..];
    let end = rest
        .find("\n### ")
        .or_else(|| rest.find("\n## "))
        .unwrap_or(rest.len());
    // Line breaks inside a sentence are spaces.
    rest[..end].replace('\n', " ")
}

/// A CSV of `results/`, its rows looked up by the values of some columns.
struct ResultsTable {
    headers: csv::StringRecord,
    rows: Vec<csv::StringRecord>,
}

impl ResultsTable {
    /// `file` of `results/`.
    fn read(file: &str) -> Self {
        Self::at(&results_dir(), file)
    }

    /// `file` of the output folder `dir`.
    fn at(dir: &Path, file: &str) -> Self {
        let mut reader = csv::Reader::from_path(dir.join(file)).unwrap();
        let headers = reader.headers().unwrap().clone();
        let rows = reader.records().map(Result::unwrap).collect();
        ResultsTable { headers, rows }
    }

    fn column(&self, name: &str) -> usize {
        self.headers.iter().position(|h| h == name).unwrap()
    }

    /// The row whose columns hold the given values.
    fn row(&self, key: &[(&str, &str)]) -> &csv::StringRecord {
        self.rows
            .iter()
            .find(|r| key.iter().all(|&(c, v)| &r[self.column(c)] == v))
            .unwrap_or_else(|| panic!("no row {key:?}"))
    }

    /// The number in column `name` of the row with the given key.
    fn number(&self, key: &[(&str, &str)], name: &str) -> f64 {
        self.row(key)[self.column(name)].parse().unwrap()
    }
}

/// The reference outputs of the paper profiles.
fn results_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("results")
}

/// What the findings on `subject` measured, in the order of the manifest
/// `<dir>/<scenario>.json` (hessian-signs reports ln P and the visit count under one subject).
fn findings(dir: &Path, scenario: &str, subject: &str) -> Vec<String> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{scenario}.json"))).unwrap())
            .unwrap();
    let measured: Vec<String> = manifest["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["subject"] == subject)
        .map(|f| f["measured"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !measured.is_empty(),
        "no finding `{subject}` in {scenario}.json"
    );
    measured
}

/// What the first finding on `subject` measured, from the manifest `<dir>/<scenario>.json`.
fn finding(dir: &Path, scenario: &str, subject: &str) -> String {
    findings(dir, scenario, subject).swap_remove(0)
}

/// What the paper run's finding on `subject` measured (`results/<scenario>.json`).
fn measured(scenario: &str, subject: &str) -> String {
    finding(&results_dir(), scenario, subject)
}

/// A fresh quick-profile run of `scenario` in a temporary folder.
fn quick_run(scenario: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    stuck()
        .args([scenario, "--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    dir
}

/// The word written right after `key` in `text` (up to a space, comma or parenthesis).
fn token_after<'a>(text: &'a str, key: &str) -> &'a str {
    let rest = from(text, key)[key.len()..].trim_start();
    let end = rest.find([' ', ',', '(', ')', ';']).unwrap_or(rest.len());
    &rest[..end]
}

/// The number written right after `key` in `text`.
fn number_after(text: &str, key: &str) -> f64 {
    let token = token_after(text, key);
    token
        .parse()
        .unwrap_or_else(|_| panic!("`{token}` after `{key}`"))
}

/// `text` from the first `anchor` on, so that [`number_after`] reads the numbers of that part.
fn from<'a>(text: &'a str, anchor: &str) -> &'a str {
    &text[text
        .find(anchor)
        .unwrap_or_else(|| panic!("`{anchor}` not in `{text}`"))..]
}

/// `text` from the first `start` up to the first `end` after it: one paragraph of a section.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let rest = from(text, start);
    &rest[..rest
        .find(end)
        .unwrap_or_else(|| panic!("`{end}` not after `{start}`"))]
}

/// The two bounds of the first interval `[low, high]` written in `text`.
fn bracketed(text: &str) -> (&str, &str) {
    let inside = &text[text.find('[').unwrap() + 1..text.find(']').unwrap()];
    inside
        .split_once(", ")
        .unwrap_or_else(|| panic!("no `[low, high]` in `{text}`"))
}

/// `x` to `decimals` places with the README's minus sign (U+2212).
fn signed(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}").replace('-', "\u{2212}")
}

/// Asserts that `text` (a README paragraph) says each of `quoted`.
fn assert_quotes(paragraph: &str, text: &str, quoted: &[String]) {
    for q in quoted {
        assert!(
            text.contains(q.as_str()),
            "README's {paragraph} does not say `{q}`"
        );
    }
}

/// Groups of three digits separated by spaces, as the README writes numbers (49 989).
fn spaced(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[test]
fn degenerate_trap_numbers_in_the_readme_are_the_quick_runs() {
    let text = readme_section("### degenerate-trap");
    let golden = ResultsTable::at(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden"),
        "degenerate-trap-quick.csv",
    );
    let number = |terrain: &str, method: &str, name: &str| {
        golden.number(&[("terrain", terrain), ("method", method)], name)
    };
    let (method, mean) = (golden.column("method"), golden.column("mean_steps"));
    // Noisy GD, momentum and Adam: the fastest and the slowest mean (two significant digits).
    let means: Vec<f64> = golden
        .rows
        .iter()
        .filter(|r| &r[method] != "gd")
        .map(|r| r[mean].parse().unwrap())
        .collect();
    let (fastest, slowest) = range(&means);
    let magnitude = 10f64.powi(slowest.log10().floor() as i32 - 1);
    let quoted = [
        format!(
            "{} steps",
            spaced(number("quartic", "gd", "mean_steps") as u64)
        ),
        format!(
            "prediction {}",
            spaced(number("quartic", "gd", "theory_steps") as u64)
        ),
        format!(
            "{:.1e} away",
            number("cubic", "gd", "final_distance_to_critical_point")
        ),
        format!(
            "{}–{} steps",
            fastest.round() as u64,
            spaced(((slowest / magnitude).round() * magnitude) as u64)
        ),
    ];
    assert_quotes("degenerate-trap section", &text, &quoted);
}

#[test]
fn the_set_up_section_names_what_the_first_command_writes() {
    let text = readme_section("## Set-up");
    let dir = tempfile::tempdir().unwrap();
    // A small run writes the same set of files as the quick profile.
    stuck()
        .arg("hessian-signs")
        .args(SMALL)
        .arg("--out")
        .arg(dir.path())
        .assert()
        .success();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("hessian-signs.json")).unwrap())
            .unwrap();
    let mut files: Vec<String> = manifest["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    files.push("hessian-signs.json".into());
    for file in files {
        assert!(
            text.contains(&format!("out/{file}")) || text.contains(&format!("`{file}`")),
            "the set-up section does not name {file}"
        );
    }
}

/// Every "ratio [low, high]" the remedies quick paragraph quotes is a comparison of a fresh quick
/// run: some row of `remedies.csv` whose `steps_ratio`, `steps_ratio_low` and `steps_ratio_high`
/// round to the quoted numbers at the quoted number of decimals. (The paragraph's medians and
/// failure counts are not checked here.)
#[test]
fn remedies_quick_intervals_in_the_readme_are_a_fresh_quick_run() {
    let section = readme_section("### remedies");
    let text = between(
        &section,
        "Quick profile (128 replicates",
        "Paper profile (`results/remedies*`",
    );
    let run = quick_run("remedies");
    let table = ResultsTable::at(run.path(), "remedies.csv");
    let columns = ["steps_ratio", "steps_ratio_low", "steps_ratio_high"].map(|c| table.column(c));
    let rounded = |value: &str, like: &str| {
        let decimals = like.split_once('.').map_or(0, |(_, d)| d.len());
        value.parse::<f64>().map(|v| format!("{v:.decimals$}")).ok()
    };
    let mut checked = 0;
    for (before, after) in text.split(" [").zip(text.split(" [").skip(1)) {
        let ratio = before.rsplit(' ').next().unwrap().trim_start_matches('(');
        let Some((low, rest)) = after.split_once(", ") else {
            continue;
        };
        let Some((high, _)) = rest.split_once(']') else {
            continue;
        };
        if [ratio, low, high].iter().any(|q| q.parse::<f64>().is_err()) {
            continue;
        }
        let quoted = [ratio, low, high];
        let found = table.rows.iter().any(|row| {
            columns
                .iter()
                .zip(quoted)
                .all(|(&c, q)| rounded(&row[c], q).as_deref() == Some(q))
        });
        assert!(
            found,
            "README's remedies quick paragraph quotes `{ratio} [{low}, {high}]`, which no comparison of a quick run has"
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} intervals found");
}

/// The paper-profile paragraph of the remedies section quotes `results/remedies.csv`: every
/// ratio with its interval (two decimals) and the end curvature of batch normalisation.
#[test]
fn remedies_paper_numbers_in_the_readme_are_the_results() {
    let section = readme_section("### remedies");
    let text = from(&section, "Paper profile (`results/remedies*`");
    let table = ResultsTable::read("remedies.csv");
    let number = |with: &str, without: &str, name: &str| {
        table.number(&[("with", with), ("without", without)], name)
    };
    let ratio = |with: &str, without: &str| {
        format!(
            "{:.2} [{:.2}, {:.2}]",
            number(with, without, "steps_ratio"),
            number(with, without, "steps_ratio_low"),
            number(with, without, "steps_ratio_high")
        )
    };
    let mut quoted = vec![
        ratio("gd eta=0.05 orthogonal u0=1", "gd eta=0.05 gaussian u0=1"),
        ratio("gd eta=0.5 gain=1", "gd eta=0.5 gain=0.01"),
        ratio("gd eta=1 q0=1", "gd eta=1 q0=0.01"),
        ratio("rmsprop eta=0.01 q0=0.01", "gd eta=1 q0=0.01"),
        ratio("adam eta=0.01 q0=0.01", "gd eta=1 q0=0.01"),
    ];
    for gain in ["0.01", "1"] {
        let with = format!("gd eta=1 gain={gain} batch-norm");
        let without = format!("gd eta=1 gain={gain}");
        quoted.push(format!(
            "{:.2} against {:.2} from gain {gain}",
            number(&with, &without, "end_lambda_max_with"),
            number(&with, &without, "end_lambda_max_without")
        ));
    }
    assert_quotes("remedies paper paragraph", text, &quoted);
}

/// The critical-census quick paragraph quotes a fresh quick run: how often each solver reaches a
/// critical point from each kind of start, the dead-network saddle's loss and index, the range
/// of the minima's losses and Spearman's ρ of index with loss.
#[test]
fn critical_census_quick_numbers_in_the_readme_are_a_fresh_quick_run() {
    let section = readme_section("### critical-census");
    let text = between(&section, "Quick profile (", "**Paper run**");
    let run = quick_run("critical-census");
    let cells = ResultsTable::at(run.path(), "critical-census-cells.csv");
    let points = ResultsTable::at(run.path(), "critical-census-points.csv");
    let summary = ResultsTable::at(run.path(), "critical-census-summary.csv");
    // Searches of `solver` from the given kinds of start: (searches, critical, flat, stalled).
    let count = |solver: &str, starts: &[&str], name: &str| -> u64 {
        starts
            .iter()
            .map(|&start| cells.number(&[("start", start), ("solver", solver)], name) as u64)
            .sum()
    };
    let trained = ["trajectory", "end"];
    let saddle = points.row(&[("class", "saddle")]);
    let minimum_losses: Vec<f64> = points
        .rows
        .iter()
        .filter(|r| &r[points.column("class")] == "minimum")
        .map(|r| r[points.column("loss")].parse().unwrap())
        .collect();
    let (lowest, highest) = range(&minimum_losses);
    let quoted = [
        format!(
            "reaches a critical point {} times of {}",
            count("exact", &["init"], "critical"),
            count("exact", &["init"], "searches")
        ),
        format!(
            "at loss {:.5}",
            saddle[points.column("loss")].parse::<f64>().unwrap()
        ),
        format!(
            "with index {} of {} at every τ > 0",
            &saddle[points.column("index_tau_1e-3")],
            &saddle[points.column("parameters")]
        ),
        format!(
            "apparent convergence {} of {} ({} gradient-flat, {} stalled",
            count("exact", &trained, "critical"),
            count("exact", &trained, "searches"),
            count("exact", &trained, "gradient_flat"),
            count("exact", &trained, "stalled")
        ),
        format!(
            "Saddle-free Newton from the same {} points reaches a critical point {} times",
            count("saddle-free", &trained, "searches"),
            count("saddle-free", &trained, "critical")
        ),
        format!(
            "(the other {} stall",
            count("saddle-free", &["init"], "stalled")
        ),
        format!(
            "all {} are distinct, at losses {lowest:.3}–{highest:.3}",
            minimum_losses.len()
        ),
        format!(
            "Spearman's ρ = {:.2} (p = {:.2}, {} points)",
            summary.number(&[], "spearman_rho"),
            summary.number(&[], "spearman_p"),
            summary.number(&[], "distinct_all_solvers")
        ),
    ];
    assert_quotes("critical-census quick paragraph", text, &quoted);
}

/// The critical-census paper paragraph quotes `results/critical-census-summary.csv`: the
/// digits networks' minima found, the iris shares of minima with their intervals, the rank
/// correlations and the Pennington–Bahri exponents.
#[test]
fn critical_census_paper_numbers_in_the_readme_are_the_results() {
    let section = readme_section("### critical-census");
    let text = from(&section, "**Paper run**");
    let table = ResultsTable::read("critical-census-summary.csv");
    let number = |network: &str, name: &str| table.number(&[("network", network)], name);
    let (small, large) = ("digits 64-4-10", "digits 64-8-10");
    let (iris4, iris8) = ("iris 4-4-3", "iris 4-8-3");
    let share = |n: &str| {
        format!(
            "{:.2} [{:.2}, {:.2}]",
            number(n, "minima_fraction"),
            number(n, "minima_low"),
            number(n, "minima_high")
        )
    };
    let exponent = |n: &str| {
        format!(
            "{:.2} ± {:.2}",
            number(n, "pb_exponent"),
            number(n, "pb_exponent_se")
        )
    };
    let quoted = [
        format!(
            "finds {} and {} distinct minima",
            number(small, "minima_all_solvers"),
            number(large, "minima_all_solvers")
        ),
        format!(
            "minima are {} of {} and {} of {}",
            number(iris4, "minima"),
            number(iris4, "distinct"),
            number(iris8, "minima"),
            number(iris8, "distinct")
        ),
        format!("({} and {})", share(iris4), share(iris8)),
        format!(
            "ρ of index with loss is {:.2}",
            number(small, "spearman_rho")
        ),
        format!(
            "(ρ = {:.2} and {:.2},",
            number(iris4, "spearman_rho"),
            number(iris8, "spearman_rho")
        ),
        format!("exponent is {} and {}", exponent(iris4), exponent(iris8)),
    ];
    assert_quotes("critical-census paper paragraph", text, &quoted);
}

/// The hessian-signs paper paragraph quotes the GOE tail fit, the splitting and reduction
/// estimates at n = 50 and 100, the Gaussian field's rate and curvature, and the index
/// variance's slope and value at n = 200.
#[test]
fn hessian_signs_paper_numbers_in_the_readme_are_the_results() {
    let section = readme_section("### hessian-signs");
    let text = from(&section, "The paper profile (`--profile paper`");
    let fit = ResultsTable::read("hessian-signs-tail-fit.csv");
    let theta = &[("model", "goe"), ("term", "n^2")];
    let cells = ResultsTable::read("hessian-signs.csv");
    let ln_p = |model: &str, method: &str, n: &str, decimals: usize| {
        ln_p_min(
            &cells,
            &[("ensemble", model), ("method", method), ("n", n)],
            decimals,
        )
    };
    let field = measured("hessian-signs", "gaussian-field tail");
    let curvature = from(&field, "theta =");
    let variance = measured("hessian-signs", "goe index variance");
    let slope = from(&variance, "slope");
    let quoted = [
        format!(
            "θ = {:.5} ± {:.5}",
            -fit.number(theta, "coefficient"),
            fit.number(theta, "standard_error")
        ),
        format!("ln P(n = 50) = {}", ln_p("goe", "splitting", "50", 1)),
        format!("ln P(n = 100) = {}", ln_p("goe", "splitting", "100", 1)),
        format!(
            "ln P(50) = {}",
            ln_p("gaussian-field", "goe-reduction", "50", 2)
        ),
        format!(
            "ln P(100) = {}",
            ln_p("gaussian-field", "goe-reduction", "100", 2)
        ),
        format!(
            "a rate of {} ± {} per dimension",
            token_after(&field, "rate").replace('-', "\u{2212}"),
            token_after(from(&field, "rate"), "+-")
        ),
        format!(
            "θ = {:.6} ± {:.6} (χ²/dof = {:.2})",
            number_after(curvature, "theta ="),
            number_after(curvature, "+-"),
            number_after(curvature, "chi2/dof =")
        ),
        format!(
            "grows as {:.6} ± {:.6} · ln n",
            number_after(slope, "slope"),
            number_after(slope, "+-")
        ),
        format!(
            "is {:.3} at n = 200",
            cells.number(
                &[("ensemble", "goe"), ("method", "direct"), ("n", "200")],
                "index_var"
            )
        ),
    ];
    assert_quotes("hessian-signs paper paragraph", text, &quoted);
}

/// "ln P ± se" of a hessian-signs cell, to `decimals` places.
fn ln_p_min(cells: &ResultsTable, key: &[(&str, &str)], decimals: usize) -> String {
    format!(
        "{} ± {:.decimals$}",
        signed(cells.number(key, "ln_p_min"), decimals),
        cells.number(key, "ln_p_min_se")
    )
}

/// The hessian-signs quick paragraph quotes a fresh quick run: the GOE's ln P(30) and tail fit
/// (θ, its distance from ln 3/4, the error inflation, the visit count at n = 100), the Gaussian
/// field's rate and its undetectable n² term, and the GOE index variance.
#[test]
fn hessian_signs_quick_numbers_in_the_readme_are_a_fresh_quick_run() {
    let section = readme_section("### hessian-signs");
    let text = from(&section, "What the quick profile finds");
    let run = quick_run("hessian-signs");
    let cells = ResultsTable::at(run.path(), "hessian-signs.csv");
    let tail = finding(run.path(), "hessian-signs", "goe tail");
    let visits = findings(run.path(), "hessian-signs", "goe")
        .into_iter()
        .find(|m| m.contains("visits"))
        .expect("the GOE visit count");
    // "10^1254.3 [10^1201.6, 10^1306.9] visits (...)"
    let (low, high) = bracketed(&visits);
    let power = |bound: &str| -> f64 { bound.trim_start_matches("10^").parse().unwrap() };
    let field = finding(run.path(), "hessian-signs", "gaussian-field tail");
    let curvature = from(&field, "theta =");
    let variance = finding(run.path(), "hessian-signs", "goe index variance");
    let slope = from(&variance, "slope");
    let quoted = [
        format!(
            "ln P(30) = {}",
            ln_p_min(
                &cells,
                &[("ensemble", "goe"), ("method", "splitting"), ("n", "30")],
                1
            )
        ),
        format!(
            "θ = {} ± {} over n = {}",
            token_after(&tail, "theta ="),
            token_after(from(&tail, "theta ="), "+-"),
            token_after(&tail, "from n =")
        ),
        format!("inflated {}×", token_after(&tail, "sqrt(chi2/dof) =")),
        format!(
            "is {:.1} standard errors from ln 3/4",
            number_after(&tail, "ln3/4| =")
        ),
        format!(
            "about 10^{:.0} (interval 10^{:.0}–10^{:.0})",
            power(token_after(&visits, "")),
            power(low),
            power(high)
        ),
        format!(
            "{:.4} ± {:.4} per dimension",
            number_after(&field, "rate"),
            number_after(from(&field, "rate"), "+-")
        )
        .replace('-', "\u{2212}"),
        format!(
            "(θ = {} ± {} on",
            token_after(curvature, "theta ="),
            token_after(curvature, "+-")
        ),
        format!(
            "is {:.3} at n = {}",
            number_after(&variance, "Var ="),
            token_after(&variance, "at n =")
        ),
        format!(
            "slope {} ± {}",
            token_after(slope, "slope"),
            token_after(slope, "+-")
        ),
    ];
    assert_quotes("hessian-signs quick paragraph", text, &quoted);
}

/// The output section's GOE constant: a weighted least-squares fit of the paper run's GOE index
/// variances at n = 16..200 to ln n/π² + C + b/n, against C₁ = (γ + 1 + 3 ln 2 − π²/8)/π².
#[test]
fn goe_index_variance_constant_in_the_readme_is_the_results_fit() {
    let text = readme_section("## Output");
    let cells = ResultsTable::read("hessian-signs.csv");
    let pi2 = std::f64::consts::PI.powi(2);
    // Normal equations of y = C + b/n with weights 1/se².
    let (mut s00, mut s01, mut s11, mut t0, mut t1) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for row in &cells.rows {
        let field = |name: &str| &row[cells.column(name)];
        let n: f64 = field("n").parse().unwrap();
        if field("ensemble") != "goe" || field("method") != "direct" || n < 16.0 {
            continue;
        }
        let y = field("index_var").parse::<f64>().unwrap() - n.ln() / pi2;
        let w = field("index_var_se").parse::<f64>().unwrap().powi(-2);
        let x = 1.0 / n;
        (s00, s01, s11) = (s00 + w, s01 + w * x, s11 + w * x * x);
        (t0, t1) = (t0 + w * y, t1 + w * x * y);
    }
    let det = s00 * s11 - s01 * s01;
    let constant = (s11 * t0 - s01 * t1) / det;
    let se = (s11 / det).sqrt();
    let conjectured = (statrs::consts::EULER_MASCHERONI + 1.0 + 3.0 * 2f64.ln() - pi2 / 8.0) / pi2;
    let quoted = [
        format!("C = {constant:.5} ± {se:.5}"),
        format!(
            "to {:.1} standard errors",
            (constant - conjectured).abs() / se
        ),
        format!("≈ {conjectured:.4}"),
    ];
    assert_quotes("output section's index-law figure", &text, &quoted);
}

/// What a well-escape paragraph quotes of the run in `dir`: the cells with an exact reference
/// (how many, their z range, combined z and mean z²), the symmetric well's slopes and the CV
/// at the largest ΔU/D.
fn well_escape_quotes(dir: &Path) -> Vec<String> {
    let table = ResultsTable::at(dir, "well-escape.csv");
    let (case, exact, z) = (
        table.column("case"),
        table.column("exact_mean_steps"),
        table.column("z_vs_exact"),
    );
    let referenced: Vec<&csv::StringRecord> =
        table.rows.iter().filter(|r| !r[exact].is_empty()).collect();
    let count = |kind: &str| referenced.iter().filter(|r| &r[case] == kind).count();
    let zs: Vec<f64> = referenced.iter().map(|r| r[z].parse().unwrap()).collect();
    let (low, high) = range(&zs);
    let combined = zs.iter().sum::<f64>() / (zs.len() as f64).sqrt();
    let mean_square = zs.iter().map(|z| z * z).sum::<f64>() / zs.len() as f64;
    let slopes: Vec<f64> = ["1", "10"]
        .iter()
        .flat_map(|d| ["barrier top", "other well"].map(move |t| (*d, t)))
        .map(|(d, target)| {
            let subject = format!("well d={d} tilt=0 to {target}");
            number_after(&finding(dir, "well-escape", &subject), "on dU/D:")
        })
        .collect();
    let (cv, noise) = (table.column("cv"), table.column("barrier_over_noise"));
    let noise_of = |r: &csv::StringRecord| r[noise].parse::<f64>().unwrap();
    let largest = table.rows.iter().map(noise_of).fold(0.0, f64::max);
    let cvs: Vec<f64> = table
        .rows
        .iter()
        .filter(|r| &r[case] == "well" && noise_of(r) == largest)
        .map(|r| r[cv].parse().unwrap())
        .collect();
    vec![
        format!(
            "the {} cells with an exact reference ({} wells, {} saddles in d = 1)",
            referenced.len(),
            count("well"),
            count("saddle")
        ),
        format!("between {} and {}", signed(low, 2), signed(high, 2)),
        format!("z = {}, mean z² = {:.2}", signed(combined, 2), mean_square),
        format!("slope {:.3}–{:.3}", range(&slopes).0, range(&slopes).1),
        format!(
            "CV {:.2}–{:.2} at ΔU/D = {largest}",
            range(&cvs).0,
            range(&cvs).1
        ),
    ]
}

/// The well-escape paper sentence quotes `results/`.
#[test]
fn well_escape_paper_numbers_in_the_readme_are_the_results() {
    let section = readme_section("### well-escape");
    let text = from(&section, "Paper profile (`results/`");
    assert_quotes(
        "well-escape paper sentence",
        text,
        &well_escape_quotes(&results_dir()),
    );
}

/// The well-escape quick sentence quotes a fresh quick run.
#[test]
fn well_escape_quick_numbers_in_the_readme_are_a_fresh_quick_run() {
    let section = readme_section("### well-escape");
    let run = quick_run("well-escape");
    assert_quotes(
        "well-escape quick sentence",
        between(&section, "Quick profile (", "Paper profile (`results/`"),
        &well_escape_quotes(run.path()),
    );
}

/// The saddle-escape quick paragraph quotes a fresh quick run's findings: the range of mean
/// escape times, the CVs, the distance to the closed forms, the chain's growth factor, where
/// f64 underflows and perturbed GD's crossing.
#[test]
fn saddle_escape_quick_numbers_in_the_readme_are_a_fresh_quick_run() {
    let section = readme_section("### saddle-escape");
    let text = from(&section, "Quick profile (");
    let run = quick_run("saddle-escape");
    let strict = finding(
        run.path(),
        "saddle-escape",
        "strict saddle, noisy/perturbed GD",
    );
    let chain = finding(run.path(), "saddle-escape", "chain of saddles");
    let (fastest, slowest) = token_after(&strict, "mean").split_once("..").unwrap();
    let cvs = token_after(&strict, "CV").replace("..", "–");
    let quoted = [
        format!(
            "means range from {:.0} to {} steps",
            fastest.parse::<f64>().unwrap(),
            spaced(slowest.parse::<f64>().unwrap().round() as u64)
        ),
        format!(
            "within {} % of the closed forms",
            token_after(&strict, "from theory").trim_end_matches('%')
        ),
        format!("CV of {cvs};"),
        format!("grows by {} per saddle", token_after(&chain, "grows by")),
        format!("underflows from d = {}", token_after(&chain, "from d =")),
        format!(
            "crosses {} saddles in about {:.0} steps",
            token_after(&chain, "steps at d ="),
            number_after(&chain, "PGD:")
        ),
    ];
    assert_quotes("saddle-escape quick paragraph", text, &quoted);
}

/// The saddle-escape section quotes the paper run's SGD escape times from the linear network
/// at init scale 10⁻⁶.
#[test]
fn saddle_escape_paper_numbers_in_the_readme_are_the_results() {
    let section = readme_section("### saddle-escape");
    let table = ResultsTable::read("saddle-escape.csv");
    let (case, method, init, mean) = (
        table.column("case"),
        table.column("method"),
        table.column("init_scale"),
        table.column("mean_steps"),
    );
    let means: Vec<f64> = table
        .rows
        .iter()
        .filter(|r| &r[case] == "linear-net" && &r[method] == "sgd" && &r[init] == "1e-6")
        .map(|r| r[mean].parse().unwrap())
        .collect();
    let (fastest, slowest) = range(&means);
    let quoted = [format!(
        "SGD in {:.0}–{:.0} steps from 10⁻⁶ in the paper run",
        fastest, slowest
    )];
    assert_quotes("saddle-escape section", &section, &quoted);
}

/// "c₂ + (c₁ ± se) ln N (K = k)": the committee machine's plateau-length fit in the run in `dir`.
fn committee_fit(dir: &Path, k: &str) -> String {
    let fit = finding(
        dir,
        "plateau-crossing",
        &format!("soft committee K = M = {k}"),
    );
    let slope = from(&fit, "+ (");
    format!(
        "{:.1} + ({} ± {}) ln N (K = {k})",
        number_after(&fit, "eta * alpha_plateau ="),
        token_after(slope, "+ ("),
        token_after(slope, "+-")
    )
}

/// The plateau-crossing quick sentences quote a fresh quick run: the shelf's scaling exponents
/// and longest GD crossing, the deep linear network's agreement with its recursion and formula,
/// its local exponents and the orthogonal-against-Gaussian plateaus, and the committee's fit.
#[test]
fn plateau_crossing_quick_numbers_in_the_readme_are_a_fresh_quick_run() {
    let section = readme_section("### plateau-crossing");
    let text = between(&section, "", "Paper profile (`results/`");
    let run = quick_run("plateau-crossing");
    let finding = |subject: &str| finding(run.path(), "plateau-crossing", subject);
    let shelf = finding("synthetic shelf");
    let deep = finding("deep linear network plateau");
    let init = finding("deep linear: orthogonal vs gaussian init");
    let committee = finding("soft committee K = M = 2");
    let exponent = |method: &str| signed(number_after(&shelf, method), 3);
    let plateau = |d: &str, label: &str| {
        let part = from(&init, &format!("D={d}:"));
        format!(
            "D = {d} {} vs {} steps, z = {}",
            spaced(number_after(part, "orthogonal").round() as u64),
            spaced(number_after(part, "gaussian").round() as u64),
            signed(number_after(part, "(z ="), 1)
        ) + label
    };
    let quoted = [
        format!("scales as g^{}", exponent("gd")),
        format!("momentum's as g^{}", exponent("momentum")),
        format!(
            "up to {} steps",
            spaced(number_after(&shelf, "up to") as u64)
        ),
        format!("({} steps apart)", token_after(&deep, "within")),
        format!(
            "formula within {} %",
            token_after(from(&deep, "and within"), "and within").trim_end_matches('%')
        ),
        format!(
            "local exponent {:.3} at D = 3 and {:.3} at D = 4",
            number_after(&deep, "D=3:"),
            number_after(&deep, "D=4:")
        ),
        plateau("3", ";"),
        plateau("4", ")"),
        format!(
            "η·ᾱ = {} with χ²/dof = {}",
            committee_fit(run.path(), "2"),
            token_after(&committee, "chi2/dof =")
        ),
    ];
    assert_quotes("plateau-crossing quick sentences", text, &quoted);
}

/// The plateau-crossing paper paragraph quotes the deep linear plateau's local exponents, the
/// orthogonal-against-Gaussian z scores and the committee's fits.
#[test]
fn plateau_crossing_paper_numbers_in_the_readme_are_the_results() {
    let section = readme_section("### plateau-crossing");
    let text = from(&section, "Paper profile (`results/`");
    let deep = measured("plateau-crossing", "deep linear network plateau");
    let exponent = |d: &str| format!("{:.3}", number_after(&deep, &format!("D={d}:")));
    let init = measured(
        "plateau-crossing",
        "deep linear: orthogonal vs gaussian init",
    );
    let z = |d: &str| signed(number_after(from(&init, &format!("D={d}:")), "(z ="), 1);
    let committee = |k: &str| committee_fit(&results_dir(), k);
    let quoted = [
        format!(
            "is {}, {} and {} at D = 3, 4, 6",
            exponent("3"),
            exponent("4"),
            exponent("6")
        ),
        format!(
            "(z = {}, {}, {}, {} at D = 2, 3, 4, 6",
            z("2"),
            z("3"),
            z("4"),
            z("6")
        ),
        committee("2"),
        committee("3"),
    ];
    assert_quotes("plateau-crossing paper paragraph", text, &quoted);
}

/// The convergence-audit quick paragraph quotes a fresh quick run's summary: test accuracy, the
/// share of end points that are not critical and its interval, the gradient ratios, the
/// shrinkage, the end points' index and top-k share, and the straight line's monotone runs.
#[test]
fn convergence_audit_quick_numbers_in_the_readme_are_a_fresh_quick_run() {
    let section = readme_section("### convergence-audit");
    let text = between(&section, "Quick profile (", "Paper profile (`results/`");
    let run = quick_run("convergence-audit");
    let summary = ResultsTable::at(run.path(), "convergence-audit-summary.csv");
    assert_eq!(summary.rows.len(), 1, "the quick profile has one cell");
    let value = |name: &str| summary.number(&[], name);
    let plateaus = ResultsTable::at(run.path(), "convergence-audit.csv");
    let first_epochs: Vec<f64> = plateaus
        .rows
        .iter()
        .filter(|r| &r[plateaus.column("plateau")] == "0")
        .map(|r| r[plateaus.column("epoch")].parse().unwrap())
        .collect();
    let mean_first_epoch = first_epochs.iter().sum::<f64>() / first_epochs.len() as f64;
    let runs = value("runs");
    let larger = finding(
        run.path(),
        "convergence-audit",
        "w16 tanh wd=0.001 gd: output layer's gradient exceeds the hidden layers'",
    );
    let quoted = [
        format!("test accuracy {:.0} %", 100.0 * value("mean_test_accuracy")),
        format!(
            "fires first at epoch ≈ {:.0}",
            (mean_first_epoch / 100.0).round() * 100.0
        ),
        format!(
            "**All {runs} end points are not critical** (interval [{:.2}, {}]",
            value("not_critical_low"),
            value("not_critical_high")
        ),
        format!(
            "‖g‖/‖g₀‖ = {:.3} [{:.4}, {:.4}]",
            value("end_over_initial"),
            value("end_over_initial_low"),
            value("end_over_initial_high")
        ),
        format!(
            "{:.2}× the hidden layer's** [{:.2}, {:.2}], larger in {} of {runs} runs",
            value("output_over_hidden"),
            value("output_over_hidden_low"),
            value("output_over_hidden_high"),
            token_after(&larger, "larger in")
        ),
        format!("plateau is {:.3} of its value", value("drop_ratio")),
        format!(
            "to {:.1} % of its initial",
            100.0 * value("end_over_initial")
        ),
        format!("≈ {:.0} eigenvalues below", value("mean_index_tau_1e-3")),
        format!("only {:.1} % of ‖g‖²", 100.0 * value("mean_top_k_share")),
    ];
    assert_quotes("convergence-audit quick paragraph", text, &quoted);
    assert_eq!(
        value("line_monotone_fraction"),
        1.0,
        "the README says the straight line falls monotonically in every run"
    );
}

/// The convergence-audit paper sentence quotes the saddles and minima where SGD without
/// weight decay ends, and the ranges of the layer ratio and of the gradient's shrinkage.
#[test]
fn convergence_audit_paper_numbers_in_the_readme_are_the_results() {
    let section = readme_section("### convergence-audit");
    let text = from(&section, "Paper profile (`results/`");
    let table = ResultsTable::read("convergence-audit-summary.csv");
    let column = |name: &str| table.column(name);
    let sgd_without_decay: Vec<&csv::StringRecord> = table
        .rows
        .iter()
        .filter(|r| {
            &r[column("trainer")] == "sgd" && r[column("weight_decay")].parse::<f64>() == Ok(0.0)
        })
        .collect();
    let total = |name: &str| -> u64 {
        sgd_without_decay
            .iter()
            .map(|r| r[column(name)].parse::<u64>().unwrap())
            .sum()
    };
    let all = |name: &str| -> Vec<f64> {
        table
            .rows
            .iter()
            .map(|r| r[column(name)].parse().unwrap())
            .collect()
    };
    let (ratio_low, ratio_high) = range(&all("output_over_hidden"));
    let (shrink_low, shrink_high) = range(&all("end_over_initial"));
    let quoted = [
        format!("({} saddles, {} minima)", total("saddles"), total("minima")),
        format!("is {ratio_low:.1}–{ratio_high:.1}× the hidden layer's"),
        format!(
            "to {:.2}–{:.1} % of its",
            100.0 * shrink_low,
            100.0 * shrink_high
        ),
    ];
    assert_quotes("convergence-audit paper sentence", text, &quoted);
}

/// The smallest and largest of `values`.
fn range(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// The critical-volume quick paragraph quotes a fresh quick run: the estimator's χ² against the
/// exact laws and its t scores, the quarter-sweep bias, each landscape's excess over pⁿ, the
/// 64-1-10 network's log₁₀ P, its near-critical points and the optimizers' visits to the box.
#[test]
fn critical_volume_quick_numbers_in_the_readme_are_a_fresh_quick_run() {
    let section = readme_section("### critical-volume");
    let text = between(
        &section,
        "Quick profile (",
        "Paper profile (`results/critical-volume*`",
    );
    let run = quick_run("critical-volume");
    let cells = ResultsTable::at(run.path(), "critical-volume.csv");
    let network = ResultsTable::at(run.path(), "critical-volume-network.csv");
    let finding = |subject: &str| finding(run.path(), "critical-volume", subject);
    let cell = |landscape: &str, n: &str, sweeps: &str, name: &str| {
        cells.number(
            &[("landscape", landscape), ("n", n), ("sweeps", sweeps)],
            name,
        )
    };
    let t = |n: &str| signed(cell("independent", n, "1", "t_vs_exact"), 1);
    let exact_log10 =
        |landscape: &str| cell(landscape, "300", "1", "exact_ln_p") / std::f64::consts::LN_10;
    let excess = |landscape: &str, n: &str| cell(landscape, n, "1", "log10_excess");
    let estimator = finding("splitting estimator vs exact laws");
    let glorot = finding("digits 64-1-10 glorot n=77 p=0.3");
    let small = finding("digits 64-1-10 small n=77 p=0.3");
    let log10_p = |measured: &str, decimals: usize| {
        let value = number_after(measured, "log10 P =");
        let se = number_after(from(measured, "log10 P ="), "+-");
        format!("{} ± {se:.decimals$}", signed(value, decimals))
    };
    // "7 of 164 checked iterates inside (0.043 [0.017, 0.086]), 2 of 4 runs entered"
    let visits = finding("gd iterates, digits width 1 glorot p=0.3");
    let (low, high) = bracketed(&visits);
    let small_point = |name: &str| network.number(&[("width", "1"), ("init", "small")], name);
    let quoted = [
        format!(
            "({} cells, χ² = {:.1} on {} dof)",
            token_after(&estimator, ""),
            number_after(&estimator, "squared normal scores"),
            token_after(&estimator, "chi2 with")
        ),
        format!(
            "(t = {}, {}, {} at n = 30, 100, 300",
            t("30"),
            t("100"),
            t("300")
        ),
        format!(
            "bias is {} nats at n = 100 (t = {})",
            signed(
                cell("independent", "100", "0.25", "ln_p")
                    - cell("independent", "100", "0.25", "exact_ln_p"),
                0
            ),
            signed(cell("independent", "100", "0.25", "t_vs_exact"), 1)
        ),
        format!(
            "reproduce pⁿ to 10^{} at n = 300",
            signed(excess("independent", "300"), 1)
        ),
        format!(
            "10^{:.1} times more common than pⁿ at n = 300 (exact 10^{:.1})",
            excess("equicorrelated rho=0.1", "300"),
            exact_log10("equicorrelated rho=0.1") + 300.0
        ),
        format!(
            "10^{:.0} times more common (log₁₀ P = {} instead of −300, exact {})",
            excess("scale-mixture M=30", "300"),
            signed(
                number_after(&finding("scale-mixture M=30 n=300 p=0.1"), "log10 P ="),
                0
            ),
            signed(exact_log10("scale-mixture M=30"), 1)
        ),
        format!(
            "K = 10 features gives 10^{:.0} at n = 30, with K = 100 only 10^{:.1}",
            excess("features K=10", "30"),
            excess("features K=100", "30")
        ),
        format!(
            "log₁₀ P = {} (Glorot) and {} (small init)",
            log10_p(&glorot, 1),
            log10_p(&small, 0)
        ),
        format!(
            "(loss {:.5} = ln 10, output spread {:.3}, index {:.0} at",
            small_point("inside_loss"),
            small_point("inside_spread"),
            small_point("inside_index_1e-3")
        ),
        format!(
            "in {} of 4 runs within 400 steps ({} of {} checked iterates, Clopper–Pearson [{:.2}, {:.2}]",
            token_after(&visits, "), "),
            token_after(&visits, ""),
            token_after(&visits, "of"),
            low.parse::<f64>().unwrap(),
            high.parse::<f64>().unwrap()
        ),
    ];
    assert_quotes("critical-volume quick paragraph", text, &quoted);
}

/// The critical-volume paper paragraph quotes `results/critical-volume.csv`: the 64-8-10
/// network's ln P and log₁₀ P with their errors, the essay's pⁿ and the excess over it.
#[test]
fn critical_volume_paper_numbers_in_the_readme_are_the_results() {
    let section = readme_section("### critical-volume");
    let text = from(&section, "Paper profile (`results/critical-volume*`");
    let table = ResultsTable::read("critical-volume.csv");
    let number = |init: &str, name: &str| {
        table.number(&[("landscape", &format!("digits 64-8-10 {init}"))], name)
    };
    let log10 = |init: &str| {
        format!(
            "{} ± {:.0}",
            signed(number(init, "ln_p") / std::f64::consts::LN_10, 0),
            number(init, "ln_p_se") / std::f64::consts::LN_10
        )
    };
    let ln = |init: &str| {
        format!(
            "{} ± {:.1}",
            signed(number(init, "ln_p"), 1),
            number(init, "ln_p_se")
        )
    };
    let quoted = [
        format!(
            "log₁₀ P = {} (Glorot) and {} (small init; ln P = {} and {})",
            log10("glorot"),
            log10("small"),
            ln("glorot"),
            ln("small")
        ),
        format!(
            "against pⁿ = 10^{}",
            signed(number("glorot", "essay_ln_p") / std::f64::consts::LN_10, 1)
        ),
        format!(
            "10^{:.0} and 10^{:.0} times more common",
            number("glorot", "log10_excess"),
            number("small", "log10_excess")
        ),
    ];
    assert_quotes("critical-volume paper paragraph", text, &quoted);
}
