//! Bad input gets one clear line on stderr, exit code 2, no panic and no partial files.

mod common;

use std::path::Path;

use common::{SMALL, assert_one_line_error, entries, stuck};

/// Runs `args` with `--out <dir>/out`, expects exit code 2, one line on stderr containing
/// every `needle`, no panic, and nothing written in the output directory.
fn rejects(dir: &Path, args: &[&str], needles: &[&str]) {
    let out = dir.join("out");
    let output = stuck().args(args).arg("--out").arg(&out).output().unwrap();
    assert_one_line_error(&output, &format!("{args:?}"), needles);
    assert!(
        !out.exists(),
        "{args:?} left a folder with {:?}",
        entries(&out)
    );
}

fn scenario_with(extra: &[&str]) -> Vec<String> {
    ["hessian-signs"]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn unknown_scenario_suggests_the_nearest_name() {
    let dir = tempfile::tempdir().unwrap();
    rejects(
        dir.path(),
        &["hessian-sign"],
        &["unknown scenario", "did you mean `hessian-signs`"],
    );
    rejects(
        dir.path(),
        &["hesian-signs"],
        &["did you mean `hessian-signs`"],
    );
}

#[test]
fn bad_engine_options() {
    let dir = tempfile::tempdir().unwrap();
    for (extra, needle) in [
        (&["--threads", "0"][..], "--threads"),
        (&["--threads", "abc"], "--threads"),
        (&["--threads", "-3"], "-3"),
        (&["--seed", "-1"], "-1"),
        (&["--seed", "1.5"], "--seed"),
        (&["--seed", "99999999999999999999999"], "--seed"),
        (&["--shard", "0/2"], "K/N"),
        (&["--shard", "3/2"], "K/N"),
        (&["--shard", "half"], "K/N"),
        (&["--profile", "huge"], "huge"),
    ] {
        let args = scenario_with(extra);
        rejects(
            dir.path(),
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            &[needle],
        );
    }
}

#[test]
fn bad_parameters_name_the_key_and_range() {
    let dir = tempfile::tempdir().unwrap();
    for (set, needles) in [
        ("bogus=3", &["unknown parameter `bogus`", "replicates"][..]),
        ("replicates=abc", &["`replicates`", "integer", "abc"]),
        ("replicates=0", &["`replicates`", "1..=1000000000000"]),
        ("confidence=nan", &["`confidence`", "finite", "nan"]),
        ("confidence=inf", &["`confidence`", "finite", "inf"]),
        ("confidence=1.5", &["`confidence`", "(0, 1)"]),
        ("dims=[1,0]", &["`dims`", "1..=200"]),
        ("dims=[]", &["`dims`", "non-empty"]),
        ("dims=[2,2]", &["`dims`", "repeat"]),
        ("ensembles=gue", &["`ensembles`", "coin, goe"]),
        ("novalue", &["key=value"]),
    ] {
        rejects(dir.path(), &["hessian-signs", "--set", set], needles);
    }
}

#[test]
fn malformed_or_wrong_config_files() {
    let dir = tempfile::tempdir().unwrap();
    let malformed = dir.path().join("bad.toml");
    std::fs::write(&malformed, "replicates = 10\ndims = [1, 2\n").unwrap();
    rejects(
        dir.path(),
        &["hessian-signs", "--config", malformed.to_str().unwrap()],
        &["malformed TOML", "bad.toml", "line"],
    );
    let wrong_type = dir.path().join("type.toml");
    std::fs::write(&wrong_type, "replicates = \"many\"\n").unwrap();
    rejects(
        dir.path(),
        &["hessian-signs", "--config", wrong_type.to_str().unwrap()],
        &["`replicates`", "integer"],
    );
    rejects(
        dir.path(),
        &["hessian-signs", "--config", "/no/such/file.toml"],
        &["cannot read config file"],
    );
}

#[test]
fn unwritable_output_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let output = stuck()
        .arg("hessian-signs")
        .args(SMALL)
        .arg("--out")
        .arg(file.join("sub"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cannot write") && stderr.contains("a-file"),
        "{stderr}"
    );
}

/// Runs one shard of the small run into `out` with the given extra options.
fn shard(out: &Path, shard: &str, extra: &[&str]) {
    stuck()
        .arg("hessian-signs")
        .args(SMALL)
        .args(["--shard", shard, "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

#[test]
fn merging_shards_of_different_runs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    shard(&a, "1/2", &["--seed", "1"]);
    shard(&b, "2/2", &["--seed", "2"]);
    shard(&c, "2/2", &["--seed", "1", "--set", "replicates=30000"]);
    let path = |p: &Path| p.to_str().unwrap().to_string();
    rejects(
        dir.path(),
        &["merge", &path(&a), &path(&b)],
        &["different runs", "seed"],
    );
    rejects(
        dir.path(),
        &["merge", &path(&a), &path(&c)],
        &["different runs", "parameters"],
    );
    rejects(dir.path(), &["merge", &path(&a)], &["missing shards 2/2"]);
    rejects(
        dir.path(),
        &[
            "merge",
            &path(&a),
            &path(&a.join("hessian-signs.shard-1-of-2.json")),
        ],
        &["missing shards"],
    );
    rejects(
        dir.path(),
        &["merge", &path(&dir.path().join("nothing"))],
        &["does not exist"],
    );
    // A damaged or foreign file is named, not a panic.
    let junk = dir.path().join("junk.shard-1-of-1.json");
    std::fs::write(&junk, "{ not json").unwrap();
    rejects(
        dir.path(),
        &["merge", &path(&junk)],
        &["not a stuck shard file"],
    );
    // A shard from another version of stuck.
    let text = std::fs::read_to_string(b.join("hessian-signs.shard-2-of-2.json")).unwrap();
    let old = dir.path().join("old");
    std::fs::create_dir(&old).unwrap();
    std::fs::write(
        old.join("hessian-signs.shard-1-of-2.json"),
        std::fs::read(a.join("hessian-signs.shard-1-of-2.json")).unwrap(),
    )
    .unwrap();
    let version = format!("\"version\":\"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(text.contains(&version));
    std::fs::write(
        old.join("hessian-signs.shard-2-of-2.json"),
        text.replace(&version, "\"version\":\"0.0.0\"")
            .replace("\"seed\":2", "\"seed\":1"),
    )
    .unwrap();
    rejects(
        dir.path(),
        &["merge", &path(&old)],
        &["different runs", "version"],
    );
}

#[test]
fn help_on_every_command_has_an_example() {
    for args in [
        &["--help"][..],
        &["hessian-signs", "--help"],
        &["list", "--help"],
        &["all", "--help"],
        &["merge", "--help"],
    ] {
        let output = stuck().args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("Example"), "{args:?}: {stdout}");
    }
    let help =
        String::from_utf8_lossy(&stuck().arg("--help").output().unwrap().stdout).into_owned();
    assert!(
        help.contains("hessian-signs"),
        "scenarios are listed in --help"
    );
}

#[test]
fn bench_writes_csv_and_plot_and_rejects_bad_threads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench");
    let output = stuck()
        .args([
            "bench",
            "--scenario",
            "well-escape",
            "--threads",
            "1,2",
            "--repeats",
            "1",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let csv = String::from_utf8(std::fs::read(out.join("bench.csv")).unwrap()).unwrap();
    assert!(csv.starts_with("scenario,mode,threads,repeats,wall_median_s"));
    assert_eq!(
        csv.lines().count(),
        5,
        "header + strong and weak for 2 thread counts"
    );
    assert!(
        std::fs::metadata(out.join("bench-scaling.png"))
            .unwrap()
            .len()
            > 1000
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("Amdahl serial fraction"));
    rejects(dir.path(), &["bench", "--threads", "0"], &["--threads"]);
    rejects(
        dir.path(),
        &["bench", "--scenario", "nope"],
        &["unknown scenario"],
    );
}

/// Deep linear networks: GD on the mode is stable only for eta * s < 1/2 here; a grid that
/// breaks it is refused before any work.
#[test]
fn unstable_deep_linear_grid_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    rejects(
        dir.path(),
        &[
            "plateau-crossing",
            "--set",
            "deep_learning_rates=[0.2]",
            "--set",
            "deep_singular_values=[3.0]",
        ],
        &["`deep_learning_rates`", "eta * s < 0.5"],
    );
}

/// Impossible combinations are refused before any work: a number of negative directions no
/// quadratic dimension can hold (its cells used to vanish silently), a chain learning rate at
/// which GD diverges by oscillation (it used to count the blow-up as an escape), and a well
/// noise so large that one kick jumps the barrier (it used to print a negative "exact" mean
/// and a verdict from z = inf).
#[test]
fn impossible_escape_grids_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needles) in [
        (
            &[
                "saddle-escape",
                "--set",
                "negative_directions=[5]",
                "--set",
                "quadratic_dims=[2]",
            ][..],
            &[
                "`negative_directions`",
                "largest quadratic dimension (2)",
                "[5]",
            ][..],
        ),
        (
            &[
                "saddle-escape",
                "--set",
                "chain_learning_rate=0.49",
                "--set",
                "chain_stiffness=9.9",
            ],
            &["`chain_learning_rate`", "diverges by oscillation"],
        ),
        (
            &[
                "well-escape",
                "--set",
                "learning_rate=0.49",
                "--set",
                "barrier_ratios=[0.001,0.01]",
            ],
            &["`barrier_ratios`", "eta*sigma = 15.652"],
        ),
    ] {
        rejects(dir.path(), args, needles);
    }
}

/// `--mpi` on a default build (no MPI linked in) says how to get it; with `--shard` it is a
/// contradiction either way.
#[cfg(not(feature = "mpi"))]
#[test]
fn mpi_without_the_feature_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    rejects(
        dir.path(),
        &["hessian-signs", "--mpi"],
        &["built without MPI", "--features mpi"],
    );
    rejects(
        dir.path(),
        &["hessian-signs", "--mpi", "--shard", "1/2"],
        &["--shard"],
    );
}

/// `stuck rerun` on a file that is no manifest, on a missing file and on a manifest whose
/// parameters were edited to an unknown key: one line, exit 2.
#[test]
fn rerun_rejects_what_is_not_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.json");
    std::fs::write(&text, "not json").unwrap();
    let edited = dir.path().join("edited.json");
    std::fs::write(
        &edited,
        r#"{"version": "0.3.0", "git_commit": null, "scenario": "degenerate-trap",
            "profile": "quick", "params": {"no_such_key": 1}, "seed": 1}"#,
    )
    .unwrap();
    let cases: [(&Path, &[&str]); 3] = [
        (
            &text,
            &["cannot rerun", "notes.json", "not a stuck manifest"],
        ),
        (
            &dir.path().join("missing.json"),
            &["cannot rerun", "missing.json"],
        ),
        (&edited, &["no_such_key"]),
    ];
    for (manifest, needles) in cases {
        let output = stuck()
            .args(["rerun", "--quiet", "--out"])
            .arg(dir.path().join("out"))
            .arg(manifest)
            .output()
            .unwrap();
        assert_one_line_error(&output, &manifest.display().to_string(), needles);
    }
}

/// `stuck params` prints, for every scenario and profile, TOML with exactly the profile's
/// keys and values, each after a comment line with its meaning and one with its rule; the rule
/// is the one validation applies (a value outside the printed interval is refused with that
/// interval); every meaning in a spec belongs to a parameter some profile reads; an unknown
/// scenario gets one error line.
#[test]
fn params_lists_every_parameter_with_its_meaning_and_rule() {
    for name in stuck::scenarios::SCENARIO_NAMES {
        let spec = stuck::runner::find_spec(name).unwrap();
        let mut listed = std::collections::BTreeSet::new();
        for profile in ["quick", "paper"] {
            let output = stuck()
                .args(["params", name, "--profile", profile])
                .output()
                .unwrap();
            assert!(output.status.success(), "{name} {profile}: {output:?}");
            let text = String::from_utf8(output.stdout).unwrap();
            let printed: toml::Table = toml::from_str(&text).unwrap();
            let expected = spec.profile(profile).unwrap();
            assert_eq!(printed, expected, "{name} {profile}");
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                if !line.is_empty() && !line.starts_with('#') {
                    let key = line.split(" = ").next().unwrap();
                    assert!(
                        i > 1 && lines[i - 1].starts_with("# "),
                        "{name}: no rule above `{line}`"
                    );
                    assert_eq!(
                        lines[i - 2],
                        format!("# {}", spec.meanings[key]),
                        "{name}: no meaning above `{line}`"
                    );
                    listed.insert(key.to_string());
                }
            }
        }
        let meant: std::collections::BTreeSet<String> = spec.meanings.keys().cloned().collect();
        assert_eq!(
            meant, listed,
            "{name}: meanings of parameters no profile reads"
        );
    }
    let text = String::from_utf8(
        stuck()
            .args(["params", "degenerate-trap"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(text.contains(
        "# step size eta of every method\n# a finite number in (0, 1)\nlearning_rate = 0.1"
    ));
    let refused = stuck()
        .args(["degenerate-trap", "--set", "learning_rate=1", "--out"])
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert_one_line_error(&refused, "learning_rate=1", &["learning_rate", "(0, 1)"]);
    let unknown = stuck().args(["params", "nope"]).output().unwrap();
    assert_one_line_error(&unknown, "params nope", &["unknown scenario `nope`"]);
}
