//! `--mpi` under a real `mpirun` with 2 ranks: rank 0 writes the same CSV bytes as a single
//! process. Built and run only with `--features mpi` (`.ci/run` installs Open MPI for it).
#![cfg(feature = "mpi")]

mod common;

use std::path::Path;
use std::process::Command;

use common::{SMALL, SMALL_SADDLE_ESCAPE, entries, read, stuck};

/// Runs `args` as a 2-rank MPI job writing to `out`.
fn mpirun(args: &[&str], out: &Path) {
    let output = Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-n", "2"])
        .arg(env!("CARGO_BIN_EXE_stuck"))
        .args(args)
        .args(["--mpi", "--threads", "1", "--out"])
        .arg(out)
        .output()
        .expect("mpirun must be on PATH for the mpi feature's tests (apt install openmpi-bin)");
    assert!(
        output.status.success(),
        "mpirun failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

fn single(args: &[&str], out: &Path) {
    stuck()
        .args(args)
        .args(["--threads", "2", "--out"])
        .arg(out)
        .assert()
        .success();
}

fn assert_mpi_equals_single(args: &[&str], files: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("single"), dir.path().join("mpi"));
    single(args, &one);
    mpirun(args, &two);
    for file in files {
        assert_eq!(read(&one.join(file)), read(&two.join(file)), "{file}");
    }
    assert!(
        !entries(&two).iter().any(|e| e.starts_with('.')),
        "checkpoints left: {:?}",
        entries(&two)
    );
}

#[test]
fn two_ranks_write_the_single_process_bytes() {
    let mut args = vec!["hessian-signs"];
    args.extend(SMALL);
    assert_mpi_equals_single(
        &args,
        &["hessian-signs.csv", "hessian-signs-index-histogram.csv"],
    );
    assert_mpi_equals_single(&SMALL_SADDLE_ESCAPE, &["saddle-escape.csv"]);
}
