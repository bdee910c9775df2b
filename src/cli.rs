//! The command line: clap definitions, their translation into runner calls, and what is
//! printed. Scenario subcommands are generated from the registry, so `stuck --help` lists
//! every scenario and `stuck <scenario> --help` shows its description.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::mc::Shard;
use crate::output::{findings_table, output_width};
use crate::runner::{self, EXIT_BAD_INPUT, RunError, RunOutcome, RunRequest, nearest};
use crate::scenarios::SCENARIO_NAMES;

const EXAMPLES: &str = "\
Examples:
  stuck list
  stuck hessian-signs                                   # quick profile, about 35 s on 2 cores
  stuck hessian-signs --profile paper --threads 16 --seed 7 --out results/
  stuck hessian-signs --set 'dims=[2,4,8]' --set replicates=1000000
  stuck hessian-signs --shard 1/4 --out shards/         # one of four machines
  stuck merge shards/ --out merged/                     # combine the four shard files
  stuck all --profile quick
  stuck bench --threads 1,2 --repeats 3                 # scaling across cores";

/// stuck: is your model really stuck in a local minimum? Monte Carlo tests of the claims of
/// "Has your model really fallen into a local optimum?", each with a statistical verdict.
#[derive(Debug, Parser)]
#[command(name = "stuck", version, after_help = EXAMPLES, subcommand_required = true, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Builtin,
}

#[derive(Debug, Subcommand)]
enum Builtin {
    /// List the scenarios, the claims they test and their last verdicts.
    #[command(after_help = "Example:\n  stuck list --out results/")]
    List {
        /// Directory whose manifests hold the last verdicts.
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Run every scenario, then print one verdict table.
    #[command(after_help = "Example:\n  stuck all --profile quick --threads 2")]
    All(CommonArgs),
    /// Strong and weak scaling of each scenario's kernel across thread counts (CSV + plot).
    #[command(
        after_help = "Examples:\n  stuck bench --threads 1,2 --repeats 3\n  stuck bench --scenario hessian-signs --threads 1,2,4,8 --out bench/"
    )]
    Bench {
        /// Scenario to benchmark (repeatable) [default: all].
        #[arg(long = "scenario")]
        scenarios: Vec<String>,
        /// Thread counts, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,2", value_parser = clap::value_parser!(u16).range(1..=4096))]
        threads: Vec<u16>,
        /// Repeats per measurement (median, min, max are reported).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=1000))]
        repeats: u16,
        /// Where to write bench.csv and bench-scaling.png.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Seed of the workloads.
        #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
        seed: u64,
    },
    /// Write report.html, report.md, verdicts.csv and verdicts.tex from the manifests in one or
    /// more output folders: per claim C1-C9 its verdicts, tests, provenance and figures.
    #[command(
        after_help = "The HTML embeds the figures and opens offline; the Markdown links them. A claim\nwithout a run in the folders is reported as not yet tested.\n\nExamples:\n  stuck report                 # reads out/, writes out/report.html ...\n  stuck report results/\n  stuck report out/ results/ --out report/"
    )]
    Report {
        /// Output folders to read (default: out).
        dirs: Vec<PathBuf>,
        /// Where to write the report (default: the first folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Is your model stuck? Classify the end point of your own trained network (minimum,
    /// saddle, plateau, not critical) from its full-data gradient and Hessian.
    #[command(
        after_help = "The model is a .safetensors file of a PyTorch nn.Sequential of Linear layers (optionally\nBatchNorm1d after hidden ones) with one activation; the data a CSV of features then an\ninteger label, used exactly as given. Writes audit.csv, audit-layers.csv,\naudit-spectrum.csv, audit.json and audit-spectrum.png.\n\nExample:\n  stuck audit --model digits.safetensors --data digits.csv --activation tanh --out audit/"
    )]
    Audit {
        /// The model (.safetensors, PyTorch nn.Sequential naming).
        #[arg(long)]
        model: PathBuf,
        /// The training data: a CSV of features then the integer label, or a .npy array of
        /// shape (examples, features) with --labels.
        #[arg(long)]
        data: PathBuf,
        /// The labels (.npy, integers, shape (examples,)) of a .npy --data.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// The training loss: cross-entropy (mean over examples, PyTorch's default) or squared
        /// error against the one-hot label, (1/2N)Σ‖z − e_y‖² (C/2 times PyTorch's MSELoss).
        #[arg(long, value_enum, default_value = "ce")]
        loss: AuditLoss,
        /// Hidden activation [default: the file's metadata key `activation`].
        #[arg(long, value_parser = parse_activation)]
        activation: Option<crate::nets::Activation>,
        /// Adds (λ/2)‖W‖² to the loss, as the optimizer's weight decay did in training.
        #[arg(long, default_value_t = 0.0, value_parser = parse_weight_decay)]
        weight_decay: f64,
        /// Largest parameter count for the exact dense Hessian; beyond it, Lanczos and
        /// stochastic Lanczos quadrature on Hessian-vector products.
        #[arg(long, default_value_t = crate::audit::DENSE_LIMIT)]
        dense_limit: usize,
        /// Largest parameter count for the full eigendecomposition (every number exact); up
        /// to the dense limit beyond it: exact index by LBLᵀ inertia, Lanczos extremes,
        /// gradient shares with guaranteed bounds (P = 3 010: ≈ 5 s instead of ≈ 25 s).
        #[arg(long, default_value_t = crate::audit::EIGEN_LIMIT)]
        eigen_limit: usize,
        /// Output directory.
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Print a scenario's parameters as TOML, each with what it means (and its unit) and the
    /// rule that checks it (ranges, allowed names), ready to edit and pass back with --config.
    #[command(
        after_help = "Examples:\n  stuck params remedies\n  stuck params well-escape --profile paper > my-grid.toml && stuck well-escape --config my-grid.toml"
    )]
    Params {
        /// The scenario.
        scenario: String,
        /// Parameter profile.
        #[arg(long, value_enum, default_value = "quick")]
        profile: Profile,
    },
    /// Run again what a manifest describes (scenario, profile, resolved parameters, seed): the
    /// same build writes the same CSV bytes.
    #[command(
        after_help = "A note is printed when the manifest was written by another version or commit.\n\nExample:\n  stuck rerun results/well-escape.json --out check/ && cmp results/well-escape.csv check/well-escape.csv"
    )]
    Rerun {
        /// The manifest (`<out>/<scenario>.json`).
        manifest: PathBuf,
        /// Where to write the new run.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Worker threads [default: all cores]; does not change the results.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=4096))]
        threads: Option<u16>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
        /// Replace results in --out that a different run wrote.
        #[arg(long)]
        force: bool,
    },
    /// Combine the shard files of a run (from `--shard K/N`) into its CSV and manifest.
    #[command(
        after_help = "Example:\n  stuck hessian-signs --shard 1/2 --out a/ && stuck hessian-signs --shard 2/2 --out b/\n  stuck merge a/ b/ --out merged/"
    )]
    Merge {
        /// Shard files, or directories holding them.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Where to write the merged CSV and manifest.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Replace results in --out that a different run wrote.
        #[arg(long)]
        force: bool,
    },
}

/// The losses `stuck audit` knows.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum AuditLoss {
    /// Softmax cross-entropy.
    Ce,
    /// Squared error against the one-hot label.
    Mse,
}

fn parse_activation(text: &str) -> Result<crate::nets::Activation, String> {
    text.parse().map_err(|_| {
        let names: Vec<&str> = <crate::nets::Activation as crate::choice::Choice>::ALL
            .iter()
            .map(|a| crate::choice::Choice::name(*a))
            .collect();
        format!("`{text}` is not one of {}", names.join(", "))
    })
}

fn parse_weight_decay(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{text}` is not a finite number ≥ 0")),
    }
}

/// The parameter profiles every scenario defines.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Profile {
    /// About a minute per scenario on a laptop.
    Quick,
    /// The published numbers; see the README for its cost.
    Paper,
}

impl Profile {
    fn name(self) -> &'static str {
        match self {
            Profile::Quick => "quick",
            Profile::Paper => "paper",
        }
    }
}

/// Options shared by every run.
#[derive(Debug, Args)]
struct CommonArgs {
    /// Parameter profile.
    #[arg(long, value_enum, default_value = "quick")]
    profile: Profile,
    /// Seed of every random stream; same seed and parameters give the same CSV bytes.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    seed: u64,
    /// Worker threads [default: all cores]; does not change the results.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=4096))]
    threads: Option<u16>,
    /// Output directory for CSV, manifest and checkpoints.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Replace results in --out that a different run wrote (other seed, profile,
    /// parameters, version or commit); without it such a run refuses to start.
    #[arg(long)]
    force: bool,
}

/// Options of a single-scenario run.
#[derive(Debug, Args)]
struct ScenarioArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Override a parameter, e.g. `--set replicates=1000000` or `--set 'dims=[2,4]'` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// TOML file of parameter overrides (applied before `--set`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Run only shard K of N (e.g. `2/8`) and write a shard file for `stuck merge`.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Spread the run over the ranks of an MPI job: `mpirun -n P stuck <scenario> --mpi`
    /// (build with `--features mpi`). Rank 0 writes the same CSV as a single process.
    #[arg(long, conflicts_with = "shard")]
    mpi: bool,
}

/// The full command tree: the built-in commands plus one subcommand per scenario.
fn command() -> clap::Command {
    let mut command = Cli::command();
    for name in SCENARIO_NAMES {
        let (about, long_about) = match runner::find_spec(name) {
            Ok(spec) => (
                format!("[{}] {}", spec.claims.join(", "), spec.summary),
                format!(
                    "{}\n\n{}\n\nTest: {}",
                    spec.summary, spec.description, spec.test
                ),
            ),
            Err(e) => (e.to_string(), e.to_string()),
        };
        // `augment_args` sets the struct's doc comment as the about text, so the scenario's own
        // description is applied after it.
        let sub = ScenarioArgs::augment_args(clap::Command::new(*name))
            .about(about)
            .long_about(long_about)
            .after_help(format!(
                "Examples:\n  stuck {name}\n  stuck {name} --profile paper --threads 8 --seed 7 --out results/\n  stuck {name} --shard 1/4 --out shards/"
            ));
        command = command.subcommand(sub);
    }
    command
}

/// Parses `args` and runs the command; returns the process exit code. Errors are printed as
/// one line on stderr.
pub fn run(args: impl IntoIterator<Item = OsString>, cancel: &AtomicBool) -> ExitCode {
    let matches = match command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => return report_clap_error(e),
    };
    let result = match matches.subcommand() {
        Some((name, sub)) if SCENARIO_NAMES.contains(&name) => run_one(name, sub, cancel),
        _ => match Cli::from_arg_matches(&matches) {
            Ok(cli) => run_builtin(cli.command, cancel),
            Err(e) => return report_clap_error(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn request(name: &str, common: &CommonArgs) -> RunRequest {
    RunRequest {
        scenario: name.to_string(),
        profile: common.profile.name().to_string(),
        seed: common.seed,
        threads: common.threads.map_or_else(default_threads, usize::from),
        out: common.out.clone(),
        sets: Vec::new(),
        config: None,
        params: None,
        quiet: common.quiet,
        shard: None,
        mpi: false,
        force: common.force,
    }
}

fn run_one(name: &str, matches: &ArgMatches, cancel: &AtomicBool) -> Result<(), RunError> {
    let args =
        ScenarioArgs::from_arg_matches(matches).map_err(|e| RunError::Internal(e.to_string()))?;
    let request = RunRequest {
        sets: args.sets,
        config: args.config,
        shard: args.shard,
        mpi: args.mpi,
        ..request(name, &args.common)
    };
    let outcome = runner::run_scenario(&request, cancel)?;
    announce(&outcome, request.quiet);
    // Shards and MPI ranks other than 0 have no verdicts until their results are merged.
    if !outcome.findings.is_empty() {
        print!("{}", findings_table(&tagged(&outcome), output_width()));
    }
    Ok(())
}

fn run_builtin(command: Builtin, cancel: &AtomicBool) -> Result<(), RunError> {
    match command {
        Builtin::List { out } => {
            print!("{}", list(&out));
            Ok(())
        }
        Builtin::All(common) => {
            let mut findings = Vec::new();
            for name in SCENARIO_NAMES {
                let outcome = runner::run_scenario(&request(name, &common), cancel)?;
                announce(&outcome, common.quiet);
                findings.extend(tagged(&outcome));
            }
            print!("{}", findings_table(&findings, output_width()));
            let written =
                crate::publish::write_report(std::slice::from_ref(&common.out), &common.out)
                    .map_err(|e| RunError::Report(e.0))?;
            if !common.quiet {
                for path in written {
                    eprintln!("wrote {}", path.display());
                }
            }
            Ok(())
        }
        Builtin::Report { dirs, out } => {
            let dirs = if dirs.is_empty() {
                vec![PathBuf::from("out")]
            } else {
                dirs
            };
            let out = out.unwrap_or_else(|| dirs[0].clone());
            let written =
                crate::publish::write_report(&dirs, &out).map_err(|e| RunError::Report(e.0))?;
            for path in written {
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
        Builtin::Bench {
            scenarios,
            threads,
            repeats,
            out,
            seed,
        } => {
            let request = runner::BenchRequest {
                scenarios,
                threads: threads.into_iter().map(usize::from).collect(),
                repeats: usize::from(repeats),
                out,
                seed,
            };
            let (summary, written) = runner::run_bench(&request, cancel)?;
            print!("{summary}");
            for path in written {
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
        Builtin::Audit {
            model,
            data,
            labels,
            loss,
            activation,
            weight_decay,
            dense_limit,
            eigen_limit,
            out,
        } => {
            let request = crate::audit::AuditRequest {
                model,
                data,
                labels,
                options: crate::audit::ModelOptions {
                    activation,
                    loss: match loss {
                        AuditLoss::Ce => crate::nets::Loss::CrossEntropy,
                        AuditLoss::Mse => crate::nets::Loss::SquaredError,
                    },
                    weight_decay,
                },
                out,
                dense_limit,
                eigen_limit,
            };
            let (report, written) = crate::audit::run_audit(&request).map_err(|e| match e {
                crate::audit::AuditError::Input(m) => RunError::Audit(m),
                crate::audit::AuditError::Numerical(m) => RunError::Internal(m),
            })?;
            for path in written {
                eprintln!("wrote {}", path.display());
            }
            print!("{}", audit_summary(&report));
            Ok(())
        }
        Builtin::Params { scenario, profile } => {
            print!("{}", runner::params_listing(&scenario, profile.name())?);
            Ok(())
        }
        Builtin::Rerun {
            manifest,
            out,
            threads,
            quiet,
            force,
        } => {
            let (request, note) = runner::rerun_request(&runner::RerunRequest {
                manifest,
                out,
                threads: threads.map_or_else(default_threads, usize::from),
                quiet,
                force,
            })?;
            if let Some(note) = note {
                eprintln!("note: {note}");
            }
            let outcome = runner::run_scenario(&request, cancel)?;
            announce(&outcome, request.quiet);
            print!("{}", findings_table(&tagged(&outcome), output_width()));
            Ok(())
        }
        Builtin::Merge { inputs, out, force } => {
            let outcome = runner::merge(&inputs, &out, force)?;
            announce(&outcome, false);
            print!("{}", findings_table(&tagged(&outcome), output_width()));
            Ok(())
        }
    }
}

/// What `stuck audit` prints: the verdict, the numbers behind it, and the advice.
fn audit_summary(r: &crate::audit::AuditReport) -> String {
    let widths: Vec<String> = r.widths.iter().map(|w| w.to_string()).collect();
    let mut text = format!(
        "model      {} ({}, {}, P = {}{})\n",
        r.model,
        widths.join("-"),
        r.activation,
        r.parameters,
        r.batch_norm
            .map_or(String::new(), |e| format!(", batch norm ε = {e:e}"))
    );
    text += &format!(
        "data       {} ({} examples); loss {} = {:.6e}, accuracy {:.4}\n",
        r.data, r.examples, r.loss_function, r.loss, r.accuracy
    );
    text += &format!("gradient   ‖g‖ = {:.3e}; per layer", r.gradient_norm);
    for l in &r.layers {
        text += &format!(
            " [{}: ‖g‖ {:.2e}, rms {:.2e}]",
            l.layer, l.gradient_norm, l.gradient_rms
        );
    }
    text += &format!(
        "\nHessian    ({}) λ_min = {:.4e}, λ_max = {:.4e}; index at τ = 0, 1e-4, 1e-3, 1e-2 (× λ_max): {:?}\n",
        r.spectrum_method, r.lambda_min, r.lambda_max, r.index
    );
    let share = |s: &crate::nets::ShareBounds| {
        if s.low == s.high || s.low.is_nan() {
            format!("{:.3}", s.low)
        } else {
            format!("{:.3}–{:.3}", s.low, s.high)
        }
    };
    text += &format!(
        "gradient   share of ‖g‖² in the top-{} / near-null / negative eigenspaces: {} / {} / {}\n",
        r.widths.last().copied().unwrap_or(0),
        share(&r.share_top),
        share(&r.share_near_null),
        share(&r.share_negative)
    );
    text += &format!(
        "search     nearest critical point (Newton-MR): {} after {} steps, moved {:.3e}, loss {:.6e}, ‖g‖ {:.3e}\n",
        r.search_outcome,
        r.search_iterations,
        r.search_distance,
        r.search_loss,
        r.search_gradient_norm
    );
    text += &format!("\nverdict    {}\n\n{}\n", r.verdict, r.advice);
    text
}

fn tagged(outcome: &RunOutcome) -> Vec<(String, crate::report::Finding)> {
    outcome
        .findings
        .iter()
        .map(|f| (outcome.scenario.clone(), f.clone()))
        .collect()
}

fn announce(outcome: &RunOutcome, quiet: bool) {
    if quiet {
        return;
    }
    if outcome.resumed {
        eprintln!("{}: resumed from a checkpoint", outcome.scenario);
    }
    for path in &outcome.written {
        eprintln!("wrote {}", path.display());
    }
}

/// The `list` table: name, claims, summary, last verdicts found in `out`.
fn list(out: &std::path::Path) -> String {
    let mut lines = Vec::new();
    for name in SCENARIO_NAMES {
        let (claims, summary) = match runner::find_spec(name) {
            Ok(spec) => (spec.claims.join(","), spec.summary),
            Err(e) => (String::new(), e.to_string()),
        };
        lines.push(format!("{name:<16} {claims:<8} {summary}"));
        match runner::last_verdicts(out, name) {
            Some(verdicts) => {
                for (claim, subject, verdict) in verdicts {
                    lines.push(format!(
                        "{:<16} {claim:<8} last verdict ({subject}): {verdict}",
                        ""
                    ));
                }
            }
            None => lines.push(format!(
                "{:<16} {:<8} not run yet in {}",
                "",
                "",
                out.display()
            )),
        }
    }
    lines.join("\n") + "\n"
}

/// Prints a clap error: help and version as clap renders them; anything else as one line,
/// with the nearest command for an unknown one. Exit code 2 for errors.
fn report_clap_error(error: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            return ExitCode::from(EXIT_BAD_INPUT);
        }
        ErrorKind::InvalidSubcommand => {
            if let Some(ContextValue::String(name)) = error.get(ContextKind::InvalidSubcommand) {
                let known = SCENARIO_NAMES
                    .iter()
                    .copied()
                    .chain(["list", "all", "merge"]);
                let hint = nearest(name, known)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                eprintln!(
                    "error: unknown scenario or command `{name}`{hint}; `stuck list` shows the scenarios"
                );
                return ExitCode::from(EXIT_BAD_INPUT);
            }
        }
        _ => {}
    }
    let rendered = error.render().to_string();
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("error: invalid arguments");
    if error.kind() == ErrorKind::MissingRequiredArgument {
        let missing: Vec<&str> = lines.take_while(|l| !l.starts_with("Usage:")).collect();
        eprintln!("{first} {}", missing.join(" "));
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let tip = lines.find(|l| l.starts_with("tip:") || l.starts_with("[possible values"));
    match tip {
        Some(tip) => eprintln!("{first} ({tip})"),
        None => eprintln!("{first}"),
    }
    ExitCode::from(EXIT_BAD_INPUT)
}
