//! The progress bar on stderr, shown only for runs longer than about a second.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{HumanFloatCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::mc::Progress;

/// Runs shorter than this never show a bar (no flicker on quick runs).
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// An indicatif bar counting samples, with elapsed time, ETA and samples/s. Hidden when
/// stderr is not a terminal (pipes, CI logs) or with `--quiet`.
pub struct TerminalProgress {
    bar: ProgressBar,
    started: Instant,
    enabled: bool,
    visible: AtomicBool,
}

impl TerminalProgress {
    /// A bar labelled with the scenario name; `quiet` disables it.
    pub fn new(label: &str, quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {human_pos}/{human_len} samples  {rate}  elapsed {elapsed}  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}/s", HumanFloatCount(state.per_sec().round()));
        })
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(label.to_string());
        TerminalProgress {
            bar,
            started: Instant::now(),
            enabled: !quiet && std::io::stderr().is_terminal(),
            visible: AtomicBool::new(false),
        }
    }
}

impl Progress for TerminalProgress {
    fn start(&self, total: u64, already_done: u64) {
        self.bar.set_length(total);
        self.bar.set_position(already_done);
        self.bar.reset_eta();
    }

    fn advance(&self, replicates: u64) {
        self.bar.inc(replicates);
        if self.enabled
            && self.started.elapsed() >= SHOW_AFTER
            && !self.visible.swap(true, Ordering::SeqCst)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    fn finish(&self) {
        if self.visible.load(Ordering::SeqCst) {
            self.bar.finish_and_clear();
        }
    }
}
