//! # stuck — is your model really stuck in a local minimum?
//!
//! Parallel Monte Carlo experiments that put each claim of the essay "Has your model really
//! fallen into a local optimum?" (see `shared/CLAIMS.md`, C1–C9) to a quantitative test, with
//! the article's prediction, the best known theory and the measurement side by side, and a
//! verdict from a stated statistical test.
//!
//! ## Module map
//! - [`mc`]: the engine — seeded per-chunk streams, parallel fan-out, ordered reduction,
//!   shards, checkpoints. Knows nothing about any scenario.
//! - [`stats`]: mergeable estimators and hypothesis tests.
//! - [`landscape`]: what is sampled or optimised (Hessian ensembles, saddles, wells, …).
//! - [`optim`]: GD, SGD on minibatches, noisy and perturbed GD, momentum, Adam, clipping.
//! - [`scenarios`]: one module per claim-scenario, their parameter specs, and the registry.
//! - [`output`]: CSV, JSON manifest, shard files, terminal table.
//! - [`runner`]: glue that runs a scenario through the engine and writes its outputs.
//! - [`cli`]: the command line.
//!
//! Dependencies point one way: `scenarios → (optim, landscape, stats, mc)`, `optim → landscape`; nothing below depends
//! on `scenarios`, `runner`, `cli` or `output`.

pub mod atomic_file;
pub mod cli;
pub mod landscape;
pub mod mc;
pub mod optim;
pub mod output;
pub mod runner;
pub mod scenarios;
pub mod stats;
