//! The `stuck` binary: parse the command line, run, map errors to exit codes.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Raised by the first SIGINT, SIGTERM or SIGHUP (what a terminal's Ctrl-C, a SLURM
/// pre-emption or time-out, and a closed terminal send): the chunks under way see it and
/// stop, and the finished ones are saved at once.
static CANCEL: AtomicBool = AtomicBool::new(false);

fn main() -> ExitCode {
    let handler = ctrlc::set_handler(|| {
        if CANCEL.swap(true, Ordering::SeqCst) {
            // Second signal: leave now. After the first one the engine saves the checkpoint
            // after every chunk it absorbs, so all finished work is already on disk.
            eprintln!("\nsecond interrupt: leaving now; finished work is saved");
            std::process::exit(i32::from(stuck::runner::EXIT_INTERRUPTED));
        }
        eprintln!("\ninterrupt: saving finished chunks (interrupt again to quit at once)");
    });
    if let Err(e) = handler {
        eprintln!(
            "warning: cannot catch interrupts ({e}); an interrupted run resumes from its last checkpoint"
        );
    }
    stuck::cli::run(std::env::args_os(), &CANCEL)
}
