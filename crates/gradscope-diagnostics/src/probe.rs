//! One observed forward and backward pass, without training: the network at initialisation.

use burn::tensor::Tensor;
use gradscope_model::{ForwardCtx, Network};

use crate::measure::{RecordOptions, Recorder, StepMeasure};

/// Runs `net` on `x` with every layer tapped, takes `loss_fn` of the output, back-propagates,
/// and returns every per-layer measurement. Batch norm uses batch statistics without updating
/// its running averages ([`ForwardCtx::PROBE`]). `x` must live on an autodiff device.
pub fn probe<N: Network>(
    net: &N,
    x: Tensor<2>,
    loss_fn: impl FnOnce(Tensor<2>) -> Tensor<1>,
    options: RecordOptions,
) -> StepMeasure {
    Recorder::new(RecordOptions {
        update_ratios: false,
        ..options
    })
    .record(net, x, &ForwardCtx::PROBE, loss_fn)
    .finish::<N>()
}
