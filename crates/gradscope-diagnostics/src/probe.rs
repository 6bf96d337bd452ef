//! One observed forward and backward pass, without training: the network at initialisation.

use burn::tensor::Tensor;
use gradscope_model::{ForwardCtx, Network};

use crate::measure::{RecordOptions, Recorder, StepMeasure};
use crate::tap::Tap;

/// Runs `net` on `x` with every layer tapped, takes `loss_fn` of the output, back-propagates,
/// and returns every per-layer measurement. Batch norm uses batch statistics without updating
/// its running averages ([`ForwardCtx::PROBE`]). `x` must live on an autodiff device.
pub fn probe<N: Network>(
    net: &N,
    x: Tensor<2>,
    loss_fn: impl FnOnce(Tensor<2>) -> Tensor<1>,
    options: RecordOptions,
) -> StepMeasure {
    let mut tap = Tap::new(options.activation_stats);
    let out = net.forward_observed(x, &ForwardCtx::PROBE, &mut tap);
    let loss = loss_fn(out);
    let grads = loss.backward();
    let mut recorder = Recorder::new(RecordOptions {
        update_ratios: false,
        ..options
    });
    recorder
        .after_backward(net, &tap, &loss, &grads)
        .finish::<N>(None)
}
