//! # stuck — is your model really stuck in a local minimum?
//!
//! Parallel Monte Carlo experiments that put each claim of the essay "Has your model really
//! fallen into a local optimum?" (see `CLAIMS.md` in the repository, C1–C9) to a quantitative test, with
//! the article's prediction, the best known theory and the measurement side by side, and a
//! verdict from a stated statistical test.
//!
//! Every formula's source is named in its doc comment; `REFERENCES.md` in the repository gives
//! the DOI or arXiv identifier of each.
//!
//! ## Module map
//! - [`mc`]: the engine — seeded per-chunk streams keyed by each cell's parameters, parallel
//!   fan-out, the fixed reduction tree, shards, checkpoints. Knows nothing about any scenario.
//! - [`stats`]: mergeable estimators, hypothesis tests and special functions.
//! - [`landscape`]: what is sampled or optimised (Hessian ensembles, saddles, wells, plateaus,
//!   degenerate terrains, small models) with exact derivatives and closed forms.
//! - [`optim`]: GD, SGD on minibatches, noisy and perturbed GD, momentum, Adam, clipping.
//! - [`nets`]: real data sets compiled in, fully connected networks with exact gradients,
//!   Hessian-vector products, dense Hessians and spectra.
//! - [`scenarios`]: one module per claim-scenario, their parameter specs, and the registry.
//! - [`report`]: what a scenario hands back — tidy tables, plots to draw, verdicts.
//! - [`output`]: CSV, JSON manifest, shard files, plots, the output folder and its lock, the
//!   terminal table.
//! - [`runner`]: glue that runs a scenario through the engine and writes its outputs; merge;
//!   bench; MPI.
//! - [`cli`]: the command line.
//! - [`atomic_file`]: whole-file writes that are never seen half done.
//! - [`choice`]: named choices (optimizers, ensembles, inits, terrains) as checked enums.
//!
//! Dependencies point one way: `cli → runner → (scenarios, output)`,
//! `scenarios → (optim, landscape, stats, mc, report)`, `optim → (landscape, mc)`,
//! `output → (report, mc)`; nothing below `runner` depends on `runner` or `cli`, and
//! `nets → (optim, landscape, mc)`; `mc`, `stats`, `landscape` and `nets` depend on no scenario.

pub mod atomic_file;
pub mod audit;
pub mod choice;
pub mod cli;
pub mod landscape;
pub mod mc;
pub mod nets;
pub mod optim;
pub mod output;
pub mod publish;
pub mod report;
pub mod runner;
pub mod scenarios;
pub mod stats;
