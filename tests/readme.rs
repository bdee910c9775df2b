//! The README's quoted numbers are checked against the outputs they quote: the degenerate-trap
//! section against the golden quick CSV (which `cell_keys.rs` checks byte for byte against a
//! fresh quick run), the remedies and critical-census paper paragraphs against their CSVs in
//! `results/`, and the set-up section's list of files against a quick run's manifest.

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
    fn read(file: &str) -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("results")
            .join(file);
        let mut reader = csv::Reader::from_path(path).unwrap();
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
    let golden =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/degenerate-trap-quick.csv");
    let mut reader = csv::Reader::from_path(golden).unwrap();
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let field = |row: &csv::StringRecord, name: &str| -> String {
        let i = headers.iter().position(|h| h == name).unwrap();
        row[i].to_string()
    };
    let row = |terrain: &str, method: &str| {
        rows.iter()
            .find(|r| field(r, "terrain") == terrain && field(r, "method") == method)
            .unwrap()
    };
    let number = |r: &csv::StringRecord, name: &str| field(r, name).parse::<f64>().unwrap();
    let quartic = row("quartic", "gd");
    let expected = [
        format!("{} steps", spaced(number(quartic, "mean_steps") as u64)),
        format!(
            "prediction {}",
            spaced(number(quartic, "theory_steps") as u64)
        ),
        format!(
            "{:.1e} away",
            number(row("cubic", "gd"), "final_distance_to_critical_point")
        ),
    ];
    // Noisy GD, momentum and Adam: the fastest and the slowest mean (two significant digits).
    let means: Vec<f64> = rows
        .iter()
        .filter(|r| field(r, "method") != "gd")
        .map(|r| number(r, "mean_steps"))
        .collect();
    let (fastest, slowest) = means.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &m| {
        (lo.min(m), hi.max(m))
    });
    let magnitude = 10f64.powi(slowest.log10().floor() as i32 - 1);
    let range = format!(
        "{}–{} steps",
        fastest.round() as u64,
        spaced(((slowest / magnitude).round() * magnitude) as u64)
    );
    for quoted in expected.iter().chain([&range]) {
        assert!(
            text.contains(quoted.as_str()),
            "README's degenerate-trap section does not say `{quoted}`"
        );
    }
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

/// The paper-profile paragraph of the remedies section quotes `results/remedies.csv`: every
/// ratio with its interval (two decimals) and the end curvature of batch normalisation.
#[test]
fn remedies_paper_numbers_in_the_readme_are_the_results() {
    let section = readme_section("### remedies");
    let start = section
        .find("Paper profile (`results/remedies*`")
        .expect("paper paragraph");
    let text = &section[start..];
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
    for q in quoted {
        assert!(
            text.contains(&q),
            "README's remedies paper paragraph does not say `{q}`"
        );
    }
}

/// The critical-census paper paragraph quotes `results/critical-census-summary.csv`: the
/// digits networks' minima found, the iris shares of minima with their intervals, the rank
/// correlations and the Pennington–Bahri exponents.
#[test]
fn critical_census_paper_numbers_in_the_readme_are_the_results() {
    let section = readme_section("### critical-census");
    let start = section.find("**Paper run**").expect("paper paragraph");
    let text = &section[start..];
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
    for q in quoted {
        assert!(
            text.contains(&q),
            "README's critical-census paper paragraph does not say `{q}`"
        );
    }
}
