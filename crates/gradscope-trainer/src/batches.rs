//! Turning rows of a data set into tensors, and the loss and metrics on them.

use burn::tensor::{Device, Int, Tensor, TensorData};
use gradscope_config::LossChoice;
use gradscope_data::{Dataset, Split, Targets, Task};
use gradscope_model::loss;

/// Targets as tensors.
#[derive(Debug, Clone)]
pub enum TargetTensor {
    /// Class indices `[batch]`.
    Classes(Tensor<1, Int>),
    /// Values `[batch, outputs]`.
    Values(Tensor<2>),
}

/// One batch on a device.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Inputs `[batch, dim]`.
    pub x: Tensor<2>,
    /// Targets.
    pub target: TargetTensor,
    /// Rows.
    pub rows: usize,
}

/// Builds a batch from rows `indices` of `split`.
pub fn batch(split: &Split, indices: &[usize], device: &Device) -> Batch {
    let (x, targets) = split.gather(indices);
    to_tensors(x, targets, indices.len(), split.dim, device)
}

/// The whole split as one batch.
pub fn whole(split: &Split, device: &Device) -> Batch {
    to_tensors(
        split.x.clone(),
        split.targets.clone(),
        split.n,
        split.dim,
        device,
    )
}

fn to_tensors(x: Vec<f32>, targets: Targets, rows: usize, dim: usize, device: &Device) -> Batch {
    let x = Tensor::<2>::from_data(TensorData::new(x, [rows, dim]), device);
    let target = match targets {
        Targets::Classes(c) => {
            let c: Vec<i64> = c.into_iter().map(i64::from).collect();
            TargetTensor::Classes(Tensor::<1, Int>::from_data(
                TensorData::new(c, [rows]),
                device,
            ))
        }
        Targets::Values(v) => {
            let outputs = v.len().checked_div(rows).unwrap_or(0);
            TargetTensor::Values(Tensor::<2>::from_data(
                TensorData::new(v, [rows, outputs]),
                device,
            ))
        }
    };
    Batch { x, target, rows }
}

/// The loss actually used for a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Cross-entropy on class indices.
    CrossEntropy,
    /// MSE against one-hot targets (classification) or values (regression).
    Mse,
}

impl Loss {
    /// Resolves the config's choice for a task; cross-entropy on regression is an error message.
    pub fn resolve(choice: LossChoice, task: &Task) -> Result<Loss, String> {
        match (choice, task.is_classification()) {
            (LossChoice::Auto, true) | (LossChoice::CrossEntropy, true) => Ok(Loss::CrossEntropy),
            (LossChoice::Auto, false) | (LossChoice::Mse, _) => Ok(Loss::Mse),
            (LossChoice::CrossEntropy, false) => {
                Err("cross_entropy needs a classification data set".into())
            }
        }
    }

    /// The name in files.
    pub fn name(self) -> &'static str {
        match self {
            Loss::CrossEntropy => "cross_entropy",
            Loss::Mse => "mse",
        }
    }

    /// The loss of `output` on `target` (a `[1]` tensor).
    pub fn compute(self, output: Tensor<2>, target: &TargetTensor) -> Tensor<1> {
        match (self, target) {
            (Loss::CrossEntropy, TargetTensor::Classes(c)) => {
                loss::cross_entropy(output, c.clone())
            }
            (Loss::Mse, TargetTensor::Values(v)) => loss::mse(output, v.clone()),
            (Loss::Mse, TargetTensor::Classes(c)) => {
                let [_, classes] = output.dims();
                let one_hot = c.clone().one_hot::<2>(classes).float();
                loss::mse(output, one_hot)
            }
            (Loss::CrossEntropy, TargetTensor::Values(_)) => {
                // Excluded by `resolve`; MSE keeps this total rather than panicking.
                loss::mse(output.clone(), output)
            }
        }
    }
}

/// Train and test splits held on the device once (evaluation reuses them every time).
#[derive(Debug, Clone)]
pub struct EvalSets {
    /// The whole training split.
    pub train: Batch,
    /// The test split.
    pub test: Batch,
}

impl EvalSets {
    /// Puts both splits of `data` on `device`.
    pub fn new(data: &Dataset, device: &Device) -> Self {
        Self {
            train: whole(&data.train, device),
            test: whole(&data.test, device),
        }
    }
}
