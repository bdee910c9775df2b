//! Everything that can stop a command, with the exit code it maps to.

use crate::mc::EngineError;
use crate::output::OutputError;
use crate::scenarios::params::ParamError;
use crate::stats::StatsError;

/// Exit code for bad input (arguments, parameters, files): the user can fix it.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code after SIGINT (128 + 2, the shell convention).
pub const EXIT_INTERRUPTED: u8 = 130;
/// Exit code for failures that are not the user's input.
pub const EXIT_FAILURE: u8 = 1;

/// Why a command failed; `Display` is the one line printed on stderr.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A name that is no scenario.
    #[error("unknown scenario `{name}`{}; `stuck list` shows them all", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownScenario {
        /// What was asked for.
        name: String,
        /// The nearest scenario name.
        suggestion: Option<String>,
    },
    /// Bad parameters, profile or config file.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The output directory or a file in it cannot be written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Shard files that cannot be merged.
    #[error("merge: {0}")]
    Merge(String),
    /// The engine stopped (interrupt, checkpoint trouble).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A defect in stuck itself (please report it).
    #[error("internal error: {0}")]
    Internal(String),
    /// `--mpi` on a build without the `mpi` feature, or MPI could not start.
    #[error("mpi: {0}")]
    Mpi(String),
    /// More shards than the run has chunks in its largest cell.
    #[error(
        "--shard {shard}: this run has at most {most} chunks in a cell, so at most {most} shards"
    )]
    TooManyShards {
        /// What was asked for.
        shard: crate::mc::Shard,
        /// The most shards the run allows.
        most: u64,
    },
    /// The chunks under way would not fit in memory.
    #[error(
        "this run needs about {:.1} GB for its {threads} chunks under way but the {limit} is {:.1} GB; use fewer particles, smaller dimensions or fewer --threads",
        *needed as f64 / 1e9,
        *available as f64 / 1e9
    )]
    TooMuchMemory {
        /// Bytes the chunks under way need.
        needed: u64,
        /// Threads (one chunk each).
        threads: usize,
        /// Bytes the process may use.
        available: u64,
        /// Which limit that is.
        limit: &'static str,
    },
    /// `stuck audit` could not read the model or the data, or write its results.
    #[error("audit: {0}")]
    Audit(String),
    /// `stuck report` found nothing to report or could not read or write.
    #[error("report: {0}")]
    Report(String),
    /// A manifest `stuck rerun` cannot use.
    #[error("cannot rerun from {file}: {message}")]
    Manifest {
        /// The manifest.
        file: String,
        /// Why.
        message: String,
    },
    /// A statistic could not be computed.
    #[error("statistics: {0}")]
    Stats(#[from] StatsError),
}

impl RunError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Engine(EngineError::Interrupted { .. }) => EXIT_INTERRUPTED,
            RunError::Engine(EngineError::ThreadPool { .. })
            | RunError::Stats(_)
            | RunError::Internal(_) => EXIT_FAILURE,
            _ => EXIT_BAD_INPUT,
        }
    }
}

/// The scenario name closest to `name` (Jaro–Winkler similarity ≥ 0.7), for "did you mean".
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
