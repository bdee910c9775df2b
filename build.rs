//! Records what the binary was built from, for the run manifest: the git commit, whether the
//! working tree had uncommitted changes to tracked files, and the compiler version.
use std::process::Command;

fn run(program: &str, args: &[&str]) -> Option<String> {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

fn main() {
    for path in [
        ".git/HEAD",
        ".git/refs/heads",
        ".git/index",
        "src",
        "scenarios",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
    let commit = run("git", &["rev-parse", "HEAD"]).unwrap_or_default();
    println!("cargo:rustc-env=STUCK_GIT_COMMIT={commit}");
    let dirty = run("git", &["status", "--porcelain", "--untracked-files=no"])
        .map(|s| if s.is_empty() { "false" } else { "true" })
        .unwrap_or_default();
    println!("cargo:rustc-env=STUCK_GIT_DIRTY={dirty}");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = run(&rustc, &["--version"]).unwrap_or_default();
    println!("cargo:rustc-env=STUCK_RUSTC_VERSION={version}");
}
