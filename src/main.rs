//! The `stuck` binary: parse the command line, run, map errors to exit codes.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Raised by the first Ctrl-C: the run stops after the chunks under way and saves them.
static CANCEL: AtomicBool = AtomicBool::new(false);

fn main() -> ExitCode {
    let handler = ctrlc::set_handler(|| {
        if CANCEL.swap(true, Ordering::SeqCst) {
            // Second Ctrl-C: leave now; the last checkpoint on disk is complete.
            std::process::exit(i32::from(stuck::runner::EXIT_INTERRUPTED));
        }
        eprintln!("\ninterrupt: saving finished chunks (Ctrl-C again to quit at once)");
    });
    if let Err(e) = handler {
        eprintln!(
            "warning: cannot catch Ctrl-C ({e}); an interrupted run resumes from its last checkpoint"
        );
    }
    stuck::cli::run(std::env::args_os(), &CANCEL)
}
