//! What a run survives, as a user sees it: signals, kills in the middle of a write, a second
//! run on the same folder, damaged shard and checkpoint files, huge parameters, and results
//! of another run in the output folder.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    SMALL, SMALL_SADDLE_ESCAPE, checkpoint_exists, entries, long_run, read, signal, stuck, wait_for,
};

/// Runs the binary with `args`, expecting exit code 2 and one line on stderr containing
/// `needle`; returns that line.
fn refused(args: &[&str], needle: &str) -> String {
    let output = stuck().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains(needle), "`{needle}` not in: {stderr}");
    assert!(
        stderr.len() < 400,
        "error line too long: {} bytes",
        stderr.len()
    );
    stderr
}

fn small_run(out: &Path, seed: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    stuck()
        .arg("hessian-signs")
        .args(SMALL)
        .args(["--seed", seed, "--out"])
        .arg(out)
        .args(extra)
        .assert()
}

#[test]
fn a_second_run_on_a_held_folder_refuses_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut first = long_run(&out, "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Its first checkpoint comes after the lock is taken (the lock file alone may exist a
    // moment before the lock).
    wait_for(&mut first, "the first checkpoint", || {
        checkpoint_exists(&out)
    });
    let out_arg = out.to_string_lossy().into_owned();
    let mut args = vec!["hessian-signs"];
    args.extend(SMALL);
    args.extend(["--out", &out_arg]);
    refused(&args, "another stuck run is writing to this folder");
    signal(&first, "-KILL");
    first.wait().unwrap();
    // The lock died with its holder: the folder is free again at once.
    small_run(&out, "1", &[]).success();
}

#[test]
fn results_of_a_different_run_are_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    small_run(&out, "1", &[]).success();
    let first = read(&out.join("hessian-signs.csv"));
    // The same run again may replace its own results.
    small_run(&out, "1", &[]).success();
    let out_arg = out.to_string_lossy().into_owned();
    let mut args = vec!["hessian-signs"];
    args.extend(SMALL);
    args.extend(["--seed", "2", "--out", &out_arg]);
    refused(&args, "the seed differs");
    assert_eq!(read(&out.join("hessian-signs.csv")), first);
    small_run(&out, "2", &["--force"]).success();
    assert_ne!(read(&out.join("hessian-signs.csv")), first);

    // merge checks the same way.
    let shards = dir.path().join("shards");
    for k in ["1/2", "2/2"] {
        small_run(&shards, "3", &["--shard", k]).success();
    }
    let shards_arg = shards.to_string_lossy().into_owned();
    refused(&["merge", &shards_arg, "--out", &out_arg], "differs");
    stuck()
        .args(["merge", &shards_arg, "--force", "--out", &out_arg])
        .assert()
        .success();
}

/// The kill is forced into the write of the results (in their staging folder): the earlier,
/// complete set of results must stay whole, and the next run cleans up.
#[test]
fn a_kill_inside_the_result_write_keeps_the_old_set_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    small_run(&out, "1", &[]).success();
    let (csv, manifest) = (
        read(&out.join("hessian-signs.csv")),
        read(&out.join("hessian-signs.json")),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_stuck"))
        .arg("hessian-signs")
        .args(SMALL)
        .args(["--seed", "1", "--out"])
        .arg(&out)
        .env(
            stuck::atomic_file::STALL_WRITE_VARIABLE,
            "hessian-signs.csv",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let staging = out.join(".hessian-signs-staging.stuck-tmp");
    wait_for(&mut child, "the CSV write", || {
        entries(&staging)
            .iter()
            .any(|e| stuck::atomic_file::is_temporary(e))
    });
    signal(&child, "-KILL");
    child.wait().unwrap();
    assert_eq!(read(&out.join("hessian-signs.csv")), csv);
    assert_eq!(read(&out.join("hessian-signs.json")), manifest);
    small_run(&out, "1", &[]).success();
    assert!(
        entries(&out).iter().all(|e| !e.starts_with('.')),
        "{:?}",
        entries(&out)
    );
}

/// A stop reaches a chunk that would run for hours (a GD run that never arrives, with a
/// budget of 10^12 steps): the run exits within a second of SIGINT.
#[test]
fn an_interrupt_reaches_a_chunk_in_a_huge_budget() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stuck"))
        .args([
            "degenerate-trap",
            "--quiet",
            "--set=budget=1000000000000",
            "--out",
        ])
        .arg(dir.path().join("out"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "the run ended early");
    let sent = Instant::now();
    signal(&child, "-INT");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "{:?}",
        sent.elapsed()
    );
}

/// `replicates = 10^12` under a 3 GB address-space limit: the run is running with bounded
/// memory when stopped (the chunk plan is not materialised), never an allocator abort; a
/// splitting run too large for the limit is refused before it starts.
#[test]
fn a_trillion_replicates_run_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let script = format!(
        "ulimit -v 3000000 && exec {} hessian-signs --quiet --threads 2 --set replicates=1000000000000 --set 'tail_ensembles=[]' --out {}",
        env!("CARGO_BIN_EXE_stuck"),
        out.display()
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&mut child, "the first checkpoint", || {
        checkpoint_exists(&out)
    });
    std::thread::sleep(Duration::from_millis(1500));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let rss_kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(rss_kib < 100_000, "resident memory {rss_kib} KiB");
    signal(&child, "-TERM");
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let checkpoint = entries(&out.join(".stuck-checkpoints"));
    let size = std::fs::metadata(out.join(".stuck-checkpoints").join(&checkpoint[0]))
        .unwrap()
        .len();
    assert!(size < 20_000, "checkpoint of {size} bytes");

    let script = format!(
        "ulimit -v 3000000 && exec {} hessian-signs --threads 1 --set particles=1000000 --set 'tail_dims=[400]' --out {}",
        env!("CARGO_BIN_EXE_stuck"),
        dir.path().join("big").display()
    );
    let output = Command::new("sh").args(["-c", &script]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("needs about 12.8 GB"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

/// Two shard files of a small saddle-escape run, and their folder.
fn two_shards(dir: &Path) -> PathBuf {
    let shards = dir.join("shards");
    for k in ["1/2", "2/2"] {
        stuck()
            .args(SMALL_SADDLE_ESCAPE)
            .args(["--shard", k, "--out"])
            .arg(&shards)
            .assert()
            .success();
    }
    shards
}

/// Copies the shards to a new folder with `edit` applied to the JSON of shard 1.
fn edited(shards: &Path, name: &str, edit: impl Fn(&mut serde_json::Value)) -> String {
    let copy = shards.with_file_name(name);
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(shards).unwrap().flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let mut json: serde_json::Value = serde_json::from_slice(&read(&entry.path())).unwrap();
        if file.contains("shard-1-of-2") {
            edit(&mut json);
        }
        std::fs::write(copy.join(&file), serde_json::to_vec(&json).unwrap()).unwrap();
    }
    copy.to_string_lossy().into_owned()
}

#[test]
fn merge_refuses_damaged_shard_files() {
    let dir = tempfile::tempdir().unwrap();
    let shards = two_shards(dir.path());
    let out = dir.path().join("merged").to_string_lossy().into_owned();
    let zero = edited(&shards, "zero", |j| {
        j["header"]["shard"]["index"] = 0.into()
    });
    refused(&["merge", &zero, "--out", &out], "not K/N");
    let huge = edited(&shards, "huge", |j| {
        j["header"]["shard"]["count"] = 4_000_000_000u64.into()
    });
    refused(&["merge", &huge, "--out", &out], "from different runs");
    // The count edited in every shard: refused against the run's chunk plan, and a list of
    // four billion missing shards is not printed.
    let all_huge = dir.path().join("all-huge");
    std::fs::create_dir_all(&all_huge).unwrap();
    for entry in std::fs::read_dir(&shards).unwrap().flatten() {
        let mut json: serde_json::Value = serde_json::from_slice(&read(&entry.path())).unwrap();
        json["header"]["shard"]["count"] = 4_000_000_000u64.into();
        std::fs::write(
            all_huge.join(entry.file_name()),
            serde_json::to_vec(&json).unwrap(),
        )
        .unwrap();
    }
    refused(
        &["merge", &all_huge.to_string_lossy(), "--out", &out],
        "missing in all",
    );
    // Censored 0 -> 1000 in one block: the replicate count no longer matches the plan.
    let censored = edited(&shards, "censored", |j| {
        let censored = &mut j["blocks"][0]["accumulator"]["censored"];
        *censored = (censored.as_u64().unwrap() + 1000).into();
    });
    refused(&["merge", &censored, "--out", &out], "replicates");
    // A block moved to another chunk.
    let moved = edited(&shards, "moved", |j| {
        j["blocks"][0]["first_chunk"] = 1_000_000u64.into()
    });
    refused(&["merge", &moved, "--out", &out], "does not match its run");
    assert!(!Path::new(&out).exists(), "a refused merge left a folder");
}

#[test]
fn a_checkpoint_with_an_edited_chunk_count_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut child = long_run(&out, "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&mut child, "the first checkpoint", || {
        checkpoint_exists(&out)
    });
    signal(&child, "-INT");
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let name = entries(&out.join(".stuck-checkpoints"))
        .into_iter()
        .find(|e| !e.starts_with('.'))
        .unwrap();
    let path = out.join(".stuck-checkpoints").join(name);
    let mut json: serde_json::Value = serde_json::from_slice(&read(&path)).unwrap();
    let finished = json["finished_chunks"].as_u64().unwrap();
    assert!(finished >= 2, "{finished}");
    json["finished_chunks"] = (finished / 2).into();
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    let output = long_run(&out, "2").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is damaged"), "{stderr}");
}

#[test]
fn more_shards_than_chunks_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").to_string_lossy().into_owned();
    let mut args = vec!["hessian-signs"];
    args.extend(SMALL);
    args.extend(["--shard", "1/1000000", "--out", &out]);
    refused(&args, "at most 20 shards");
}

#[test]
fn small_defects_of_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").to_string_lossy().into_owned();
    // merge names its missing argument.
    refused(&["merge"], "<INPUTS>");
    // A huge bound is printed in scientific notation, not as 301 digits.
    refused(
        &["hessian-signs", "--set", "step_budget=1e301", "--out", &out],
        "[1, 1e300], got 1e301",
    );
    // A device as a config file fails at once instead of reading forever.
    refused(
        &["hessian-signs", "--config", "/dev/zero", "--out", &out],
        "not a regular file",
    );
    assert!(!Path::new(&out).exists());
}
