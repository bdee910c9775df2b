//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;

/// The `stuck` binary built for this test run.
pub fn stuck() -> assert_cmd::Command {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_stuck"))
}

/// A small hessian-signs run (a fraction of a second) used wherever only the plumbing is
/// under test.
pub const SMALL: [&str; 10] = [
    "--set",
    "tail_ensembles=[]",
    "--set",
    "dims=[1,2,3,4]",
    "--set",
    "replicates=20000",
    "--set",
    "chunk=1000",
    "--quiet",
    "--set=ensembles=[\"coin\",\"goe\"]",
];

/// A small saddle-escape run (every case kind, a fraction of a second).
pub const SMALL_SADDLE_ESCAPE: [&str; 8] = [
    "saddle-escape",
    "--quiet",
    "--set=replicates=40",
    "--set=chunk=7",
    "--set=learning_rates=[0.1]",
    "--set=curvatures=[1.0]",
    "--set=quadratic_dims=[2]",
    "--set=chain_dims=[1,2,3,4]",
];

/// The bytes of a file, with a readable failure.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Names of the entries of a directory (empty if it does not exist), hidden ones included.
pub fn entries(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}
