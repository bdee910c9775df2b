//! Streams are keyed by each cell's own parameter values, not by its position in the grid:
//! a run narrowed to part of the grid with `--set` reproduces the rows of the full run byte
//! for byte, in every scenario. That is what lets one cell be rerun or extended on its own.

mod common;

use std::path::Path;

use common::{read, stuck};

/// Runs `scenario` with `common` plus `full`, then with `common` plus `narrow`, and asserts
/// that every data row of each `csv` of the narrowed run is a row of the full run.
fn narrowed_rows_are_full_rows(
    scenario: &str,
    common: &[&str],
    full: &[&str],
    narrow: &[&str],
    csvs: &[&str],
) {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &Path, extra: &[&str]| {
        stuck()
            .arg(scenario)
            .args(["--quiet", "--seed", "4"])
            .args(common)
            .args(extra)
            .arg("--out")
            .arg(out)
            .assert()
            .success();
    };
    let (whole, part) = (dir.path().join("full"), dir.path().join("narrow"));
    run(&whole, full);
    run(&part, narrow);
    for csv in csvs {
        let whole_text = String::from_utf8(read(&whole.join(csv))).unwrap();
        let part_text = String::from_utf8(read(&part.join(csv))).unwrap();
        let whole_rows: Vec<&str> = whole_text.lines().collect();
        let part_rows: Vec<&str> = part_text.lines().collect();
        assert!(part_rows.len() >= 2, "{csv}: no data rows");
        assert!(
            part_rows.len() < whole_rows.len(),
            "{csv}: the grid was not narrowed"
        );
        assert_eq!(part_rows[0], whole_rows[0], "{csv}: header");
        for row in &part_rows[1..] {
            assert!(
                whole_rows.contains(row),
                "{scenario} {csv}: the narrowed run's row\n{row}\nis not in the full run:\n{whole_text}"
            );
        }
    }
}

#[test]
fn hessian_signs_cells_do_not_depend_on_the_grid() {
    narrowed_rows_are_full_rows(
        "hessian-signs",
        &[
            "--set=tail_ensembles=[]",
            "--set=replicates=20000",
            "--set=chunk=1000",
        ],
        &["--set=dims=[1,2,3,4]", "--set=ensembles=[\"coin\",\"goe\"]"],
        &["--set=dims=[3]", "--set=ensembles=[\"goe\"]"],
        &["hessian-signs.csv"],
    );
}

#[test]
fn saddle_escape_cells_do_not_depend_on_the_grid() {
    narrowed_rows_are_full_rows(
        "saddle-escape",
        &[
            "--set=replicates=40",
            "--set=chunk=7",
            "--set=learning_rates=[0.1]",
            "--set=curvatures=[1.0]",
            "--set=net_init_scales=[0.001]",
        ],
        &[
            "--set=quadratic_dims=[2,50]",
            "--set=negative_directions=[1,2]",
            "--set=net_batches=[1,8]",
            "--set=chain_dims=[1,2,3,4]",
        ],
        &[
            "--set=quadratic_dims=[50]",
            "--set=negative_directions=[2]",
            "--set=net_batches=[8]",
            "--set=chain_dims=[3]",
        ],
        &["saddle-escape.csv"],
    );
}

#[test]
fn well_escape_cells_do_not_depend_on_the_grid() {
    narrowed_rows_are_full_rows(
        "well-escape",
        &["--set=replicates=100", "--set=chunk=30"],
        &[
            "--set=dims=[1,10]",
            "--set=tilts=[0.0,0.1]",
            "--set=barrier_ratios=[1.0,2.0]",
        ],
        &[
            "--set=dims=[10]",
            "--set=tilts=[0.1]",
            "--set=barrier_ratios=[2.0]",
        ],
        &["well-escape.csv"],
    );
}

#[test]
fn degenerate_trap_cells_do_not_depend_on_the_grid() {
    narrowed_rows_are_full_rows(
        "degenerate-trap",
        &["--set=replicates=100", "--set=chunk=30"],
        &["--set=noise_levels=[0.01,0.1]"],
        &["--set=noise_levels=[0.1]"],
        &["degenerate-trap.csv"],
    );
}

#[test]
fn plateau_crossing_cells_do_not_depend_on_the_grid() {
    narrowed_rows_are_full_rows(
        "plateau-crossing",
        &[
            "--set=replicates=20",
            "--set=chunk=7",
            "--set=learning_rates=[0.1]",
            "--set=deep_scales=[0.01]",
            "--set=deep_singular_values=[1.0]",
            "--set=deep_learning_rates=[0.05]",
            "--set=deep_replicates=10",
            "--set=deep_chunk=3",
            "--set=committee_learning_rates=[1.0]",
            "--set=committee_replicates=10",
            "--set=committee_chunk=3",
        ],
        &[
            "--set=widths=[1.0,10.0]",
            "--set=slopes=[0.1,0.01]",
            "--set=dims=[1,10]",
            "--set=deep_depths=[2,3]",
            "--set=committee_inputs=[16,32]",
        ],
        &[
            "--set=widths=[10.0]",
            "--set=slopes=[0.1]",
            "--set=dims=[10]",
            "--set=deep_depths=[3]",
            "--set=committee_inputs=[32]",
        ],
        &[
            "plateau-crossing.csv",
            "plateau-crossing-deep-linear.csv",
            "plateau-crossing-committee.csv",
        ],
    );
}

/// A golden quick-profile CSV of a cheap scenario: no change may move published numbers
/// silently. Regenerate it (and say why in the commit) only when numbers are meant to change:
/// `stuck degenerate-trap --quiet --out /tmp/g && cp /tmp/g/degenerate-trap.csv
/// tests/golden/degenerate-trap-quick.csv`.
#[test]
fn the_quick_degenerate_trap_csv_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    stuck()
        .args(["degenerate-trap", "--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let golden =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/degenerate-trap-quick.csv");
    assert_eq!(
        String::from_utf8(read(&dir.path().join("degenerate-trap.csv"))).unwrap(),
        String::from_utf8(read(&golden)).unwrap()
    );
}

#[test]
fn convergence_audit_cells_do_not_depend_on_the_grid() {
    narrowed_rows_are_full_rows(
        "convergence-audit",
        &[
            "--set=dataset=\"iris\"",
            "--set=replicates=2",
            "--set=search_iterations=2",
            "--set=sgd_batch=16",
        ],
        &["--set=widths=[3,5]", "--set=trainers=[\"gd\",\"sgd\"]"],
        &["--set=widths=[5]", "--set=trainers=[\"sgd\"]"],
        &["convergence-audit.csv", "convergence-audit-search.csv"],
    );
}

#[test]
fn critical_census_cells_do_not_depend_on_the_grid() {
    narrowed_rows_are_full_rows(
        "critical-census",
        &[
            "--set=datasets=[\"iris\"]",
            "--set=replicates=2",
            "--set=search_iterations=5",
            "--set=solvers=[\"minres\"]",
        ],
        &["--set=widths=[2,3]", "--set=starts=[\"init\",\"end\"]"],
        &["--set=widths=[3]", "--set=starts=[\"end\"]"],
        &["critical-census.csv"],
    );
}
