//! `stuck bench`: strong and weak scaling of each scenario's kernel across thread counts,
//! with the machine's other load recorded next to every measurement.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::{RunError, RunRequest, find_spec, run_scenario};
use crate::atomic_file::write_atomically;
use crate::output::{self, Axes, OutputError, Series, line_plot};
use crate::report::{DataTable, short};
use crate::stats::weighted_least_squares;

/// What to benchmark.
#[derive(Debug, Clone)]
pub struct BenchRequest {
    /// Scenarios (all when empty).
    pub scenarios: Vec<String>,
    /// Thread counts, e.g. 1, 2, 4.
    pub threads: Vec<usize>,
    /// Repeats per measurement (median, min and max are reported).
    pub repeats: usize,
    /// Output directory for `bench.csv` and `bench-scaling.png`.
    pub out: PathBuf,
    /// Seed of the workloads.
    pub seed: u64,
}

/// The run that measures `scenario`: its `bench` profile (a fixed workload of about a second
/// on one core, declared in `scenarios/<name>.toml`) with the spec's `bench_scaling`
/// parameter multiplied by `scale`, on `threads` threads, writing into the scratch directory
/// `out`.
fn workload_run(
    scenario: &str,
    scale: u64,
    threads: usize,
    seed: u64,
    out: &std::path::Path,
) -> Result<RunRequest, RunError> {
    let spec = find_spec(scenario)?;
    let key = &spec.bench_scaling;
    let base = spec
        .profile("bench")?
        .get(key)
        .and_then(toml::Value::as_integer)
        .ok_or_else(|| {
            RunError::Internal(format!(
                "{scenario}: bench_scaling names `{key}`, not an integer of the bench profile"
            ))
        })?;
    Ok(RunRequest {
        scenario: scenario.to_string(),
        profile: "bench".into(),
        seed,
        threads,
        out: out.to_path_buf(),
        sets: vec![format!("{key}={}", base as u64 * scale)],
        config: None,
        params: None,
        quiet: true,
        shard: None,
        mpi: false,
        force: true,
    })
}

/// One measurement.
#[derive(Debug, Clone)]
struct Measurement {
    scenario: String,
    mode: &'static str,
    threads: usize,
    walls: Vec<f64>,
    cpu_seconds: f64,
    samples: u64,
    idle_before: f64,
    other_load: f64,
    load_average: f64,
}

impl Measurement {
    fn median(&self) -> f64 {
        let mut w = self.walls.clone();
        w.sort_by(f64::total_cmp);
        w[w.len() / 2]
    }
}

/// Runs the benchmark, writes `bench.csv` and `bench-scaling.png`, and returns the summary.
pub fn run_bench(
    request: &BenchRequest,
    cancel: &AtomicBool,
) -> Result<(String, Vec<PathBuf>), RunError> {
    let scenarios: Vec<String> = if request.scenarios.is_empty() {
        crate::scenarios::SCENARIO_NAMES
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        request.scenarios.clone()
    };
    for s in &scenarios {
        find_spec(s)?;
    }
    let _out = output::OutputDir::open(&request.out, true)?;
    let scratch = request.out.join(".stuck-bench");
    let mut rows = Vec::new();
    for scenario in &scenarios {
        for mode in ["strong", "weak"] {
            for &threads in &request.threads {
                let scale = if mode == "weak" { threads as u64 } else { 1 };
                let run = workload_run(scenario, scale, threads, request.seed, &scratch)?;
                let idle_before = idle_fraction(Duration::from_millis(200));
                let mut measurement = Measurement {
                    scenario: scenario.clone(),
                    mode,
                    threads,
                    walls: Vec::new(),
                    cpu_seconds: 0.0,
                    samples: 0,
                    idle_before,
                    other_load: 0.0,
                    load_average: load_average(),
                };
                let mut cpu = Vec::new();
                let mut others = Vec::new();
                for _ in 0..request.repeats.max(1) {
                    let (stat_start, cpu_start, started) =
                        (cpu_counters(), process_cpu_seconds(), Instant::now());
                    let outcome = run_scenario(&run, cancel)?;
                    let wall = started.elapsed().as_secs_f64();
                    let used = process_cpu_seconds() - cpu_start;
                    let busy = stat_start
                        .zip(cpu_counters())
                        .map_or(0.0, |(a, b)| 1.0 - idle_between(a, b));
                    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
                    others.push((busy - used / (wall * cores)).max(0.0));
                    measurement.walls.push(wall);
                    measurement.samples = outcome.samples;
                    cpu.push(used);
                }
                cpu.sort_by(f64::total_cmp);
                measurement.cpu_seconds = cpu[cpu.len() / 2];
                measurement.other_load = others.iter().copied().fold(0.0, f64::max);
                rows.push(measurement);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let (text, table, series) = render(&rows)?;
    let csv_path = request.out.join("bench.csv");
    let csv = output::table_to_csv(&table).map_err(|e| RunError::Internal(e.to_string()))?;
    write_atomically(&csv_path, &csv).map_err(|e| OutputError {
        path: csv_path.clone(),
        message: e.to_string(),
    })?;
    let plot_path = request.out.join("bench-scaling.png");
    line_plot(
        &plot_path,
        "Strong and weak scaling (bars: fastest to slowest repeat)",
        "threads",
        "speed-up",
        &series,
        Axes {
            diagonal: true,
            ..Axes::default()
        },
    )?;
    let svg_path = plot_path.with_extension("svg");
    Ok((text, vec![csv_path, plot_path, svg_path]))
}

/// The summary text, the table for `bench.csv` and the strong- and weak-scaling series.
fn render(rows: &[Measurement]) -> Result<(String, DataTable, Vec<Series>), RunError> {
    let mut text = String::new();
    let mut table = DataTable::new(
        "bench",
        &[
            "scenario",
            "mode",
            "threads",
            "repeats",
            "wall_median_s",
            "wall_min_s",
            "wall_max_s",
            "cpu_s",
            "samples",
            "samples_per_s",
            "speedup",
            "efficiency",
            "idle_before",
            "other_load",
            "load_average",
            "busy_warning",
        ],
    );
    let mut series = Vec::new();
    let mut scenarios: Vec<&str> = rows.iter().map(|r| r.scenario.as_str()).collect();
    scenarios.dedup();
    for scenario in scenarios {
        for mode in ["strong", "weak"] {
            let group: Vec<&Measurement> = rows
                .iter()
                .filter(|r| r.scenario == scenario && r.mode == mode)
                .collect();
            let Some(base) = group.iter().find(|r| r.threads == 1).or(group.first()) else {
                continue;
            };
            let (base_wall, base_threads) = (base.median(), base.threads as f64);
            let mut points = Vec::new();
            let mut bars = Vec::new();
            for r in &group {
                let wall = r.median();
                // Strong: T₁/T_p. Weak: the work grows with p, so p·T₁/T_p.
                let speedup = if mode == "strong" {
                    base_wall / wall * base_threads
                } else {
                    base_wall / wall * r.threads as f64 / base_threads
                };
                let efficiency = speedup / r.threads as f64;
                let busy = r.idle_before < 0.9 || r.other_load > 0.1;
                let min = r.walls.iter().copied().fold(f64::INFINITY, f64::min);
                let max = r.walls.iter().copied().fold(0.0, f64::max);
                points.push((r.threads as f64, speedup));
                // The spread of the repeats: the speed-up from the slowest and the fastest run.
                bars.push((r.threads as f64, speedup * wall / max, speedup * wall / min));
                table.push(vec![
                    r.scenario.clone().into(),
                    mode.into(),
                    (r.threads as u64).into(),
                    (r.walls.len() as u64).into(),
                    wall.into(),
                    min.into(),
                    max.into(),
                    r.cpu_seconds.into(),
                    r.samples.into(),
                    (r.samples as f64 / wall).into(),
                    speedup.into(),
                    efficiency.into(),
                    r.idle_before.into(),
                    r.other_load.into(),
                    r.load_average.into(),
                    busy.to_string().into(),
                ]);
                text.push_str(&format!(
                    "{scenario} {mode}, {} thread(s): {:.3} s (min {:.3}, max {:.3}, {} runs), {} samples/s, speed-up {:.2}x, efficiency {:.0}%{}\n",
                    r.threads, wall, min, max, r.walls.len(), short(r.samples as f64 / wall), speedup, efficiency * 100.0,
                    if busy { format!("  WARNING: machine busy (idle before {:.0}%, other load {:.0}%)", r.idle_before * 100.0, r.other_load * 100.0) } else { String::new() }
                ));
            }
            series.push(Series {
                label: format!("{scenario} ({mode})"),
                points: points.clone(),
                lines: true,
                intervals: if group.iter().any(|r| r.walls.len() > 1) {
                    bars
                } else {
                    Vec::new()
                },
                reference: false,
                look: None,
            });
            if mode == "strong"
                && let Some((f, se)) = amdahl(&points)?
            {
                // Outside [0, 1] the fit is not a serial fraction: super-linear speed-up
                // (caches, a warmer second measurement) or timings too noisy to fit.
                let flag = if (0.0..=1.0).contains(&f) {
                    ""
                } else {
                    "  WARNING: outside [0, 1], not a serial fraction (super-linear or noisy timings; use more --repeats)"
                };
                text.push_str(&format!(
                    "{scenario}: Amdahl serial fraction {f:.4}{}{flag}\n",
                    se.map_or(String::new(), |s| format!(" +- {s:.4}"))
                ));
            }
        }
    }
    Ok((text, table, series))
}

/// Amdahl's law `S(p) = 1/(f + (1 − f)/p)`, i.e. `1/S = f + (1 − f)/p`: the serial fraction f
/// is the intercept of a least-squares line of `1/S` on `1/p` (G. M. Amdahl, AFIPS 1967).
/// With two thread counts the line is exact and has no standard error.
fn amdahl(points: &[(f64, f64)]) -> Result<Option<(f64, Option<f64>)>, RunError> {
    if points.len() < 2 {
        return Ok(None);
    }
    let x: Vec<Vec<f64>> = points.iter().map(|(p, _)| vec![1.0, 1.0 / p]).collect();
    let y: Vec<f64> = points.iter().map(|(_, s)| 1.0 / s).collect();
    let fit = weighted_least_squares(&x, &y, &vec![1.0; points.len()])?;
    // Unit weights: the ordinary least-squares error is the unscaled one times √(χ²/dof),
    // whether that is above or below 1.
    let se = (fit.dof > 0)
        .then(|| fit.standard_errors[0] / fit.misfit_scale * fit.reduced_chi_square().sqrt());
    Ok(Some((fit.coefficients[0], se)))
}

/// `(idle, total)` jiffies of all CPUs from `/proc/stat` (Linux); `None` elsewhere.
fn cpu_counters() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let idle = values.get(3)? + values.get(4).copied().unwrap_or(0);
    Some((idle, values.iter().sum()))
}

fn idle_between(a: (u64, u64), b: (u64, u64)) -> f64 {
    let total = b.1.saturating_sub(a.1);
    if total == 0 {
        1.0
    } else {
        b.0.saturating_sub(a.0) as f64 / total as f64
    }
}

/// Fraction of CPU time idle over `window` (1 when unknown).
fn idle_fraction(window: Duration) -> f64 {
    let start = cpu_counters();
    std::thread::sleep(window);
    start
        .zip(cpu_counters())
        .map_or(1.0, |(a, b)| idle_between(a, b))
}

/// One-minute load average from `/proc/loadavg` (NaN when unknown).
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// User + system CPU seconds of this process from `/proc/self/stat` (fields 14 and 15, in
/// clock ticks of 1/100 s, the Linux default); NaN elsewhere.
fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // The command name (field 2) may contain spaces; fields resume after its ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::resolve_params;
    use crate::scenarios::spec::ScenarioSpec;
    use crate::scenarios::{Experiment, ExperimentVisitor, SCENARIO_NAMES, dispatch};

    struct CheckParams(toml::Table);
    impl ExperimentVisitor for CheckParams {
        type Output = ();
        fn visit<E: Experiment>(self, spec: ScenarioSpec) {
            E::from_params(&self.0).unwrap_or_else(|e| panic!("{}: {e}", spec.name));
        }
    }

    /// `stuck bench` without `--scenario` runs every scenario: each needs a workload whose
    /// parameters, as the bench resolves them, are valid (weak scaling at 2 threads too).
    #[test]
    fn every_scenario_has_a_valid_bench_workload() {
        for name in SCENARIO_NAMES {
            for scale in [1, 2] {
                let run = workload_run(name, scale, scale as usize, 1, std::path::Path::new("x"))
                    .unwrap_or_else(|e| panic!("no bench workload for {name}: {e}"));
                let spec = find_spec(name).unwrap();
                let params = resolve_params(&spec, &run).unwrap();
                dispatch(spec, CheckParams(params)).unwrap();
            }
        }
    }
}
