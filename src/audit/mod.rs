//! `stuck audit`: is *your* model stuck? The end point of a user's own trained network —
//! from a `.safetensors` file in PyTorch's `nn.Sequential` layout and a CSV of the data it
//! was trained on — classified as a minimum, a saddle of some index, a plateau or not a
//! critical point, from the full-data gradient, the exact Hessian spectrum and a search for
//! the nearest critical point, with the numbers behind it and what the suite's scenarios
//! measured about that situation.

mod data_file;
mod model_file;
mod run;
mod verdict;

pub use data_file::{load_csv, load_npy};
pub use model_file::{LoadedModel, ModelOptions, TORCH_BATCH_NORM_EPS, load_model, save_model};
pub use run::{
    AuditError, AuditReport, AuditRequest, DENSE_LIMIT, EIGEN_LIMIT, LayerRow, run_audit,
};
pub use verdict::{Evidence, PLATEAU_SHARE, PointClass, SAME_LOSS, TAU, advice, classify};
