//! A user's fully connected network from a `.safetensors` file in PyTorch's `nn.Sequential`
//! naming, into the network layer's [`Mlp`] and flat parameter vector (and back, for the
//! tests and for exporting the suite's own networks).
//!
//! Supported: modules numbered `0, 1, 2, …` of which the parametrised ones are
//! - `nn.Linear`: `{i}.weight` of shape `[out, in]` (row-major, as PyTorch stores it) and
//!   `{i}.bias` of shape `[out]`;
//! - `nn.BatchNorm1d` after a hidden `Linear`: `{i}.weight` (γ) and `{i}.bias` (β) of shape
//!   `[out]`, with `running_mean`, `running_var` and `num_batches_tracked` accepted and not
//!   used (the audit evaluates batch normalisation with full-data statistics, train mode on the
//!   whole data set, so the running averages do not enter; the `Linear` bias before it is
//!   cancelled by the mean subtraction and dropped).
//!
//! Parameter-free modules (the activations) leave gaps in the numbering. The activation is
//! the same on every hidden layer, given by the caller or by the file's metadata key
//! `activation` (`tanh`, `relu`, `softplus`); `batch_norm_eps` in the metadata sets ε
//! (PyTorch's default 10⁻⁵ otherwise). Tensors may be `F32` or `F64`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::choice::Choice;
use crate::nets::{Activation, Loss, Mlp};

/// PyTorch's default ε of `nn.BatchNorm1d`.
pub const TORCH_BATCH_NORM_EPS: f64 = 1e-5;

/// A network read from a file: the model and its parameters in the network layer's layout.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedModel {
    /// The network (widths, activation, loss, weight decay, batch normalisation).
    pub net: Mlp,
    /// Its parameters, laid out by [`Mlp::layers`].
    pub theta: Vec<f64>,
}

/// What the caller decides about the model beyond its weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelOptions {
    /// The hidden activation, overriding the file's metadata.
    pub activation: Option<Activation>,
    /// The training loss.
    pub loss: Loss,
    /// The L2 coefficient λ of `(λ/2)‖W‖²` (0 without `--weight-decay`).
    pub weight_decay: f64,
}

/// One numbered module of the file.
#[derive(Debug)]
enum Module {
    Linear {
        weight: Vec<f64>,
        shape: (usize, usize),
        bias: Vec<f64>,
    },
    BatchNorm {
        gamma: Vec<f64>,
        beta: Vec<f64>,
    },
}

fn values(name: &str, view: &TensorView<'_>) -> Result<Vec<f64>, String> {
    let bytes = view.data();
    let out: Vec<f64> = match view.dtype() {
        Dtype::F64 => bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect(),
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|b| f64::from(f32::from_le_bytes(b.try_into().expect("4 bytes"))))
            .collect(),
        other => {
            return Err(format!(
                "tensor `{name}` has dtype {other:?}; supported: F32, F64"
            ));
        }
    };
    match out.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(format!(
            "tensor `{name}` holds a non-finite value ({}) at element {i}",
            out[i]
        )),
        None => Ok(out),
    }
}

/// Reads and checks the model file.
///
/// # Errors
/// One line saying what is wrong and what is supported: unreadable or malformed file, a
/// tensor name outside the `nn.Sequential` pattern, a module that is neither `Linear` nor
/// `BatchNorm1d`, shapes that do not chain, a non-finite weight, an unknown activation.
pub fn load_model(path: &Path, options: &ModelOptions) -> Result<LoadedModel, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let context = |m: String| format!("{}: {m}", path.display());
    parse_model(&bytes, options).map_err(context)
}

const SUPPORTED: &str = "supported: nn.Sequential of nn.Linear (`{i}.weight` [out, in], `{i}.bias` [out]) with optional nn.BatchNorm1d after hidden layers, activations between them";

fn parse_model(bytes: &[u8], options: &ModelOptions) -> Result<LoadedModel, String> {
    let tensors = SafeTensors::deserialize(bytes)
        .map_err(|e| format!("not a valid safetensors file ({e})"))?;
    let (_, metadata) = SafeTensors::read_metadata(bytes)
        .map_err(|e| format!("not a valid safetensors file ({e})"))?;
    let metadata = metadata.metadata().clone().unwrap_or_default();
    // Group the tensors by module number.
    let mut groups: BTreeMap<usize, HashMap<String, TensorView<'_>>> = BTreeMap::new();
    for (name, view) in tensors.tensors() {
        let (index, field) = name
            .split_once('.')
            .and_then(|(i, f)| Some((i.parse::<usize>().ok()?, f.to_string())))
            .ok_or_else(|| {
                format!("tensor `{name}` is not named `<module>.<field>`; {SUPPORTED}")
            })?;
        groups.entry(index).or_default().insert(field, view);
    }
    if groups.is_empty() {
        return Err(format!("the file holds no tensors; {SUPPORTED}"));
    }
    let mut modules = Vec::new();
    for (index, fields) in &groups {
        let get = |field: &str| {
            fields
                .get(field)
                .ok_or_else(|| format!("module {index} has no `{index}.{field}`; {SUPPORTED}"))
        };
        let weight = get("weight")?;
        let known: &[&str] = match weight.shape().len() {
            2 => &["weight", "bias"],
            1 => &[
                "weight",
                "bias",
                "running_mean",
                "running_var",
                "num_batches_tracked",
            ],
            _ => {
                return Err(format!(
                    "`{index}.weight` has shape {:?}: only Linear ([out, in]) and BatchNorm1d ([units]) layers are supported; {SUPPORTED}",
                    weight.shape()
                ));
            }
        };
        if let Some(extra) = fields.keys().find(|f| !known.contains(&f.as_str())) {
            return Err(format!(
                "module {index} has `{index}.{extra}`, which is neither a Linear nor a BatchNorm1d field; {SUPPORTED}"
            ));
        }
        let bias = get("bias")?;
        let name = |f: &str| format!("{index}.{f}");
        match weight.shape() {
            [out, inputs] => {
                if bias.shape() != [*out] {
                    return Err(format!(
                        "`{}` has shape {:?}, expected [{out}] for a Linear of weight [{out}, {inputs}]",
                        name("bias"),
                        bias.shape()
                    ));
                }
                modules.push(Module::Linear {
                    weight: values(&name("weight"), weight)?,
                    shape: (*out, *inputs),
                    bias: values(&name("bias"), bias)?,
                });
            }
            [units] => {
                if bias.shape() != [*units] {
                    return Err(format!(
                        "`{}` has shape {:?}, expected [{units}] for a BatchNorm1d of {units} units",
                        name("bias"),
                        bias.shape()
                    ));
                }
                modules.push(Module::BatchNorm {
                    gamma: values(&name("weight"), weight)?,
                    beta: values(&name("bias"), bias)?,
                });
            }
            _ => unreachable!("weights of other ranks were refused above"),
        }
    }
    assemble(&modules, &metadata, options)
}

fn assemble(
    modules: &[Module],
    metadata: &HashMap<String, String>,
    options: &ModelOptions,
) -> Result<LoadedModel, String> {
    // Linear layers, each with the batch normalisation that follows it, if any.
    let mut layers: Vec<(&Module, Option<&Module>)> = Vec::new();
    for module in modules {
        match module {
            Module::Linear { .. } => layers.push((module, None)),
            Module::BatchNorm { gamma, .. } => match layers.last_mut() {
                Some((Module::Linear { shape, .. }, norm @ None)) if shape.0 == gamma.len() => {
                    *norm = Some(module)
                }
                _ => {
                    return Err(format!(
                        "a BatchNorm1d of {} units must directly follow a Linear with as many outputs; {SUPPORTED}",
                        gamma.len()
                    ));
                }
            },
        }
    }
    let shapes: Vec<(usize, usize)> = layers
        .iter()
        .map(|(l, _)| match l {
            Module::Linear { shape, .. } => *shape,
            Module::BatchNorm { .. } => unreachable!("layers start with a Linear"),
        })
        .collect();
    for (k, pair) in shapes.windows(2).enumerate() {
        if pair[1].1 != pair[0].0 {
            return Err(format!(
                "Linear layer {} has {} inputs but the layer before it has {} outputs",
                k + 1,
                pair[1].1,
                pair[0].0
            ));
        }
    }
    let normalised: Vec<bool> = layers.iter().map(|(_, n)| n.is_some()).collect();
    if normalised.last() == Some(&true) {
        return Err(format!(
            "batch normalisation after the output layer is not supported; {SUPPORTED}"
        ));
    }
    let hidden = &normalised[..normalised.len() - 1];
    if hidden.iter().any(|&n| n) && !hidden.iter().all(|&n| n) {
        return Err(format!(
            "batch normalisation on some hidden layers only is not supported (all or none); {SUPPORTED}"
        ));
    }
    let activation = match (options.activation, metadata.get("activation")) {
        (Some(a), _) => a,
        (None, Some(name)) => name.parse::<Activation>().map_err(|_| {
            format!(
                "metadata activation `{name}` is not one of {}",
                activation_names(", ")
            )
        })?,
        (None, None) if shapes.len() == 1 => Activation::Tanh,
        (None, None) => {
            return Err(format!(
                "the file does not say its activation (metadata key `activation`); pass --activation {}",
                activation_names("|")
            ));
        }
    };
    let mut widths: Vec<usize> = shapes.iter().map(|s| s.1).collect();
    widths.push(shapes.last().expect("at least one layer").0);
    let mut net = Mlp::new(&widths, activation, options.loss, options.weight_decay);
    if hidden.first() == Some(&true) {
        let eps = match metadata.get("batch_norm_eps") {
            Some(text) => text
                .parse::<f64>()
                .ok()
                .filter(|e| e.is_finite() && *e > 0.0)
                .ok_or_else(|| {
                    format!("metadata batch_norm_eps `{text}` is not a positive number")
                })?,
            None => TORCH_BATCH_NORM_EPS,
        };
        net = net.with_batch_norm(eps);
    }
    let mut theta = vec![0.0; net.parameters()];
    for ((linear, norm), slices) in layers.iter().zip(net.layers()) {
        let Module::Linear {
            weight,
            shape: (out, inputs),
            bias,
        } = linear
        else {
            unreachable!("layers start with a Linear")
        };
        // PyTorch's [out, in] row-major W[o, i] at o·in + i; ours column-major at o + i·out.
        for o in 0..*out {
            for i in 0..*inputs {
                theta[slices.weights.start + o + i * out] = weight[o * inputs + i];
            }
        }
        match norm {
            Some(Module::BatchNorm { gamma, beta }) => {
                theta[slices.scales.clone()].copy_from_slice(gamma);
                theta[slices.biases.clone()].copy_from_slice(beta);
            }
            _ => theta[slices.biases.clone()].copy_from_slice(bias),
        }
    }
    Ok(LoadedModel { net, theta })
}

fn activation_names(separator: &str) -> String {
    let names: Vec<&str> = Activation::ALL.iter().map(|a| a.name()).collect();
    names.join(separator)
}

/// Writes `theta` of `net` as a `.safetensors` file in the layout [`load_model`] reads
/// (`F64` tensors; modules numbered as `nn.Sequential(Linear, [BatchNorm1d,] Act, …)`
/// would number them, the activation and ε in the metadata). Used by the tests, and to
/// hand the suite's own networks to other tools.
///
/// ```
/// use stuck::audit::{ModelOptions, load_model, save_model};
/// use stuck::nets::{Activation, Loss, Mlp};
/// let net = Mlp::new(&[3, 4, 2], Activation::Relu, Loss::CrossEntropy, 0.0);
/// let theta: Vec<f64> = (0..net.parameters()).map(|k| k as f64 / 10.0).collect();
/// let path = std::env::temp_dir().join("stuck-doc-model.safetensors");
/// save_model(&path, &net, &theta).unwrap();
/// let options = ModelOptions { activation: None, loss: Loss::CrossEntropy, weight_decay: 0.0 };
/// let back = load_model(&path, &options).unwrap();
/// assert_eq!((back.net, back.theta), (net, theta));
/// ```
///
/// # Errors
/// When the file cannot be written.
pub fn save_model(path: &Path, net: &Mlp, theta: &[f64]) -> Result<(), String> {
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let bytes =
        |v: &mut dyn Iterator<Item = f64>| -> Vec<u8> { v.flat_map(|x| x.to_le_bytes()).collect() };
    let mut module = 0;
    for (l, slices) in net.layers().iter().enumerate() {
        let (out, inputs) = (slices.outputs, slices.inputs);
        let w = &theta[slices.weights.clone()];
        let mut row_major = (0..out).flat_map(|o| (0..inputs).map(move |i| w[o + i * out]));
        tensors.push((
            format!("{module}.weight"),
            vec![out, inputs],
            bytes(&mut row_major),
        ));
        let normalised = !slices.scales.is_empty();
        // Before a normalisation the Linear bias is cancelled: write zeros.
        let bias: Vec<f64> = if normalised {
            vec![0.0; out]
        } else {
            theta[slices.biases.clone()].to_vec()
        };
        tensors.push((
            format!("{module}.bias"),
            vec![out],
            bytes(&mut bias.into_iter()),
        ));
        module += 1;
        if normalised {
            let gamma = &theta[slices.scales.clone()];
            let beta = &theta[slices.biases.clone()];
            tensors.push((
                format!("{module}.weight"),
                vec![out],
                bytes(&mut gamma.iter().copied()),
            ));
            tensors.push((
                format!("{module}.bias"),
                vec![out],
                bytes(&mut beta.iter().copied()),
            ));
            module += 1;
        }
        if l + 1 < net.layers().len() {
            module += 1; // the activation
        }
    }
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(name, shape, data)| {
            TensorView::new(Dtype::F64, shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| format!("tensor {name}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let mut metadata = HashMap::new();
    metadata.insert(
        "activation".to_string(),
        net.activation().name().to_string(),
    );
    if let Some(eps) = net.batch_norm() {
        metadata.insert("batch_norm_eps".to_string(), format!("{eps:e}"));
    }
    let file = safetensors::serialize(views, Some(metadata))
        .map_err(|e| format!("cannot encode the model: {e}"))?;
    crate::atomic_file::write_atomically(path, &file)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
