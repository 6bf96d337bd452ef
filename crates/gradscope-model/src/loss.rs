//! Losses: mean squared error and cross-entropy, as the trainer and the diagnostics use them.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

/// Mean squared error, averaged over every entry (PyTorch's `mse_loss` with `reduction="mean"`).
///
/// # Shapes
/// - `output`, `target`: `[batch, d]`
/// - returns `[1]`
pub fn mse(output: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    output.sub(target).square().mean()
}

/// Cross-entropy of logits against class indices, averaged over the batch.
///
/// # Shapes
/// - `logits`: `[batch, classes]`
/// - `labels`: `[batch]`
/// - returns `[1]`
pub fn cross_entropy(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let [batch, _] = logits.dims();
    let log_p = log_softmax(logits, 1);
    let picked = log_p.gather(1, labels.reshape([batch as i64, 1]));
    picked.mean().neg()
}

/// Number of rows whose arg-max equals the label (as a `[1]` float tensor, not read back).
pub fn correct_count(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let [batch, _] = logits.dims();
    let predicted = logits.argmax(1).reshape([batch as i64]);
    predicted.equal(labels).float().sum()
}
