//! The grid of `saddle-escape`: its cells, their keys, and the checks of the parameters.

use toml::Table;

use super::super::params::{ParamError, ParamReader};
use super::{Case, ChainSettings, QuadraticCell, SaddleEscape};
use crate::landscape::TwoLayerLinear;
use crate::mc::chunk_stream;
use crate::optim::MethodName;

/// Rejects grids that cannot mean what they say: negative directions that no quadratic
/// dimension can hold (the quadratic grid keeps the pairs with k < d and would be empty), and a chain learning rate
/// at which GD diverges by oscillation on the stable coordinates (they are multiplied by
/// `1 − 2ηL` per step, which must stay in (−1, 1), so `ηL < 1`); such runs leave the radius by
/// blowing up, which would be counted as escapes.
fn check_combinations(
    methods: &[MethodName],
    dims: &[u64],
    negatives: &[u64],
    chain_dims: &[u64],
    chain: ChainSettings,
) -> Result<(), ParamError> {
    let largest = dims.iter().copied().max().unwrap_or(0);
    let smallest_k = negatives.iter().copied().min().unwrap_or(0);
    if !methods.is_empty() && smallest_k >= largest {
        return Err(ParamError::Invalid {
            key: "negative_directions".into(),
            expected: format!(
                "must hold a value below the largest quadratic dimension ({largest}): a saddle needs a stable direction, and every quadratic cell (k < d) would vanish"
            ),
            got: format!("{negatives:?}"),
        });
    }
    let (eta, stiffness) = (chain.learning_rate, chain.stiffness);
    if !chain_dims.is_empty() && eta * stiffness >= 1.0 {
        return Err(ParamError::Invalid {
            key: "chain_learning_rate".into(),
            expected: "times chain_stiffness must be below 1 (GD multiplies the stable coordinates by 1 - 2 eta L, which diverges by oscillation otherwise)".into(),
            got: format!("{eta} x {stiffness} = {}", eta * stiffness),
        });
    }
    Ok(())
}

impl SaddleEscape {
    /// Reads and checks the parameters (`Experiment::from_params`).
    pub(super) fn read(table: &Table) -> Result<Self, ParamError> {
        let mut p = ParamReader::new(table);
        let replicates = p.integer("replicates", 1..=1_000_000_000)?;
        let chunk = p.integer("chunk", 1..=1_000_000_000)?;
        let budget = p.integer("budget", 1..=1_000_000_000_000)?;
        let radius = p.number("radius", 0.0..=1e6, true)?;
        let methods = p.choices_of(
            "quadratic_methods",
            &[MethodName::Gd, MethodName::NoisyGd, MethodName::PerturbedGd],
            true,
        )?;
        let rates = p.number_list("learning_rates", 0.0..=1.0, true)?;
        let gammas = p.number_list("curvatures", 0.0..=10.0, true)?;
        let sigmas = p.number_list("noise_levels", 0.0..=1e3, true)?;
        let dims = p.integer_list("quadratic_dims", 1..=10_000)?;
        let start_distance = p.number("start_distance", 0.0..=1e6, true)?;
        let perturbation = (
            p.number("perturbation_radius", 0.0..=1e6, true)?,
            p.number("perturbation_threshold", 0.0..=1e6, true)?,
        );
        let batches = p.integer_list("net_batches", 1..=1_000_000)?;
        let init_scales = p.number_list("net_init_scales", 0.0..=1e3, false)?;
        let examples = p.integer("net_examples", 1..=1_000_000)? as usize;
        let width = p.integer("net_width", 1..=crate::landscape::MAX_WIDTH as u64)? as usize;
        let data_seed = p.integer("data_seed", 0..=u64::MAX)?;
        let net_learning_rate = p.number("net_learning_rate", 0.0..=1.0, true)?;
        let net_radius = p.number("net_radius", 0.0..=1e6, true)?;
        let chain_dims = p.integer_list("chain_dims", 1..=1000)?;
        let chain = ChainSettings {
            learning_rate: p.number("chain_learning_rate", 0.0..=0.5, true)?,
            gamma: p.number("chain_gamma", 0.0..=10.0, true)?,
            stiffness: p.number("chain_stiffness", 0.0..=10.0, true)?,
            start: p.number("chain_start", 0.0..=1e6, true)?,
        };
        let chain_interval = p.integer("chain_perturbation_interval", 1..=1_000_000_000)?;
        let negatives = p.integer_list("negative_directions", 1..=10_000)?;
        let radii = p.number_list("quadratic_radii", 0.0..=1e6, true)?;
        p.finish("saddle-escape")?;
        check_combinations(&methods, &dims, &negatives, &chain_dims, chain)?;
        let mut cells = Vec::new();
        for &method in &methods {
            for &learning_rate in &rates {
                for &gamma in &gammas {
                    for &dimension in &dims {
                        let noise: &[f64] = if method == MethodName::NoisyGd {
                            &sigmas
                        } else {
                            &[0.0]
                        };
                        for &sigma in noise {
                            for &negative in &negatives {
                                for &radius in &radii {
                                    if negative >= dimension {
                                        continue;
                                    }
                                    cells.push(Case::Quadratic(QuadraticCell {
                                        method,
                                        learning_rate,
                                        gamma,
                                        sigma,
                                        dimension: dimension as usize,
                                        negative: negative as usize,
                                        radius,
                                    }));
                                }
                            }
                        }
                    }
                }
            }
        }
        for &init_scale in &init_scales {
            cells.push(Case::Net {
                batch: None,
                init_scale,
            });
            for &b in &batches {
                cells.push(Case::Net {
                    batch: Some(b as usize),
                    init_scale,
                });
            }
        }
        for &d in &chain_dims {
            for perturbed in [false, true] {
                cells.push(Case::Chain {
                    perturbed,
                    dimension: d as usize,
                });
            }
        }
        let net = TwoLayerLinear::teacher(
            width,
            width,
            width,
            examples,
            0.1,
            &mut chunk_stream(data_seed, "saddle-escape-data", 0, 0),
        );
        Ok(SaddleEscape {
            cells,
            replicates,
            chunk,
            budget,
            radius,
            start_distance,
            perturbation,
            net,
            net_learning_rate,
            net_radius,
            chain,
            chain_interval,
        })
    }
}
