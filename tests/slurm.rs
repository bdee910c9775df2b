//! The SLURM submission script refuses bad arguments with its usage before touching SLURM.

use std::process::Command;

fn submit(args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/slurm/submit.sh"
        ))
        .args(args)
        .env_remove("CPUS")
        .output()
        .expect("bash runs")
}

#[test]
fn submit_prints_its_usage_on_missing_or_bad_arguments() {
    for (args, needle) in [
        (&[][..], "usage: scripts/slurm/submit.sh SCENARIO N OUT"),
        (&["hessian-signs", "4"][..], "usage:"),
        (
            &["hessian-signs", "abc", "out"][..],
            "N must be a positive integer",
        ),
        (
            &["hessian-signs", "0", "out"][..],
            "N must be a positive integer",
        ),
        (
            &["hessian-signs", "2", "out", "paper", "-1"][..],
            "SEED must be",
        ),
    ] {
        let output = submit(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
