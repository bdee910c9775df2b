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

/// A run long enough to be interrupted: about 3 s on one core.
pub const LONG: [&str; 7] = [
    "--set=tail_ensembles=[]",
    "--set=ensembles=[\"goe-dense\"]",
    "--set=dims=[6,7,8]",
    "--set=dense_replicates=400000",
    "--set=chunk=2000",
    "--seed=5",
    "--quiet",
];

/// The [`LONG`] hessian-signs run on `threads` threads into `out`, not yet started.
pub fn long_run(out: &Path, threads: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_stuck"));
    command
        .arg("hessian-signs")
        .args(LONG)
        .args(["--threads", threads, "--out"])
        .arg(out);
    command
}

/// Whether `out` holds a checkpoint file (temporary files not counted).
pub fn checkpoint_exists(out: &Path) -> bool {
    entries(&out.join(".stuck-checkpoints"))
        .iter()
        .any(|e| !e.starts_with('.'))
}

/// Waits (up to a minute) until `ready()` holds, failing if `child` ends first.
pub fn wait_for(child: &mut std::process::Child, what: &str, ready: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Sends `signal` (e.g. `-KILL`) to a child process.
pub fn signal(child: &std::process::Child, signal: &str) {
    let sent = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Asserts that a command failed the way bad input must: exit code 2, exactly one line on
/// stderr containing every `needle`, and no panic.
pub fn assert_one_line_error(output: &std::process::Output, context: &str, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{context}: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{context}: not one line: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{context}: {stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{context}: `{needle}` not in: {stderr}"
        );
    }
}
