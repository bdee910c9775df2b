//! The grid of `critical-volume`: gradient laws, networks and optimizer trajectories.

use crate::choice;
use crate::landscape::{
    gaussian_box_threshold, ln_box_equicorrelated, ln_box_scale_mixture, scale_mixture_threshold,
};

choice! {
    /// A synthetic gradient law, as `laws` names it.
    pub enum LawName {
        /// Independent standard Gaussian components: pⁿ exactly.
        Independent = "independent",
        /// Equicorrelated Gaussian components over `correlations`.
        Equicorrelated = "equicorrelated",
        /// A shared Gaussian scale over `mixture_dofs`.
        ScaleMixture = "scale-mixture",
        /// Random-Fourier-feature landscapes over `feature_counts`.
        Features = "features",
    }
}

choice! {
    /// A network initialisation, as `inits` names it.
    pub enum Init {
        /// Weights N(0, 1/fan_in), biases 0.
        Glorot = "glorot",
        /// The same scaled by `small_gain`.
        Small = "small",
    }
}

choice! {
    /// An optimizer of the trajectory cells, as `optimizers` names it.
    pub enum OptimizerName {
        /// Full-batch gradient descent.
        Gd = "gd",
        /// Minibatch SGD with batches of `batch`.
        Sgd = "sgd",
    }
}

choice! {
    /// How a synthetic cell estimates P.
    pub enum Method {
        /// Counting hits among direct draws.
        Direct = "direct",
        /// Adaptive multilevel splitting.
        Splitting = "splitting",
    }
}

/// A synthetic law with its parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Synthetic {
    /// Independent components.
    Independent,
    /// Pairwise correlation ρ.
    Equicorrelated {
        /// ρ.
        rho: f64,
    },
    /// Shared scale with M degrees of freedom.
    ScaleMixture {
        /// M.
        m: usize,
    },
    /// K random Fourier features.
    Features {
        /// K.
        k: usize,
    },
}

impl Synthetic {
    /// E.g. `equicorrelated rho=0.1`.
    pub fn label(&self) -> String {
        match *self {
            Synthetic::Independent => "independent".into(),
            Synthetic::Equicorrelated { rho } => format!("equicorrelated rho={rho}"),
            Synthetic::ScaleMixture { m } => format!("scale-mixture M={m}"),
            Synthetic::Features { k } => format!("features K={k}"),
        }
    }

    /// Whether ln P is known in closed form (a one-dimensional integral).
    pub fn exact(&self) -> bool {
        !matches!(self, Synthetic::Features { .. })
    }

    /// Latent dimension at n components.
    pub fn latent_len(&self, n: usize) -> usize {
        match *self {
            Synthetic::Independent => n,
            Synthetic::Equicorrelated { .. } => n + 1,
            Synthetic::ScaleMixture { m } => n + m,
            Synthetic::Features { k } => k * (n + 3),
        }
    }

    /// The box half-width with marginal probability p, where the marginal law is known
    /// (the feature landscapes calibrate theirs on a pilot: see the simulation).
    pub fn threshold(&self, p: f64) -> Option<f64> {
        match *self {
            Synthetic::Independent | Synthetic::Equicorrelated { .. } => {
                Some(gaussian_box_threshold(p))
            }
            Synthetic::ScaleMixture { m } => Some(scale_mixture_threshold(p, m as f64)),
            Synthetic::Features { .. } => None,
        }
    }

    /// The exact ln P at n components and marginal p, if known.
    pub fn exact_ln_p(&self, n: usize, p: f64) -> Option<f64> {
        let tau = self.threshold(p)?;
        Some(match *self {
            Synthetic::Independent => n as f64 * p.ln(),
            Synthetic::Equicorrelated { rho } => ln_box_equicorrelated(n, rho, tau),
            Synthetic::ScaleMixture { m } => ln_box_scale_mixture(n, m as f64, tau),
            Synthetic::Features { .. } => return None,
        })
    }
}

/// One grid cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// A synthetic law at n components and marginal p.
    Synthetic {
        /// The law.
        law: Synthetic,
        /// Components.
        n: usize,
        /// Marginal probability per component.
        p: f64,
        /// Estimator.
        method: Method,
        /// Splitting sweeps per stage (0 for direct cells).
        sweeps: f64,
    },
    /// Splitting on the network of spec `id`.
    Network {
        /// Index into the scenario's networks.
        id: usize,
    },
    /// Optimizer trajectories on the network of spec `id`.
    Trajectory {
        /// Index into the scenario's networks.
        id: usize,
        /// The optimizer.
        optimizer: OptimizerName,
    },
}
