//! The seam between a network and whoever watches it.
//!
//! A network calls its observer once per layer boundary, in order, with the boundary's output.
//! The observer may hand back a different tensor of the same value: the diagnostics pass it
//! through a backward hook (an identity operation whose backward step reports ∂L/∂h), or add a
//! zero-valued leaf that requires a gradient, which makes burn's autodiff report ∂L/∂h for that
//! boundary. Because [`crate::DeepNet`] makes these calls itself, any [`crate::Block`] a user
//! writes is observed without doing anything.

use burn::tensor::Tensor;

use crate::Activation;

/// Where an observed tensor comes from.
#[derive(Debug, Clone, Copy)]
pub struct LayerInfo<'a> {
    /// 1-based index of the layer boundary (1 = output of the first hidden layer).
    pub index: usize,
    /// Stable name of the layer, such as `blocks.3` (also its parameters' path prefix).
    pub name: &'a str,
    /// The activation whose output this is, when the layer ends in a known one; it decides which
    /// saturation and dead-unit statistics make sense.
    pub activation: Option<Activation>,
}

/// Watches the output of each layer during a forward pass.
pub trait LayerObserver {
    /// Called with the output `h` of layer `info.index`; returns the tensor the forward pass
    /// continues with, which must equal `h` in value.
    fn observe(&mut self, info: LayerInfo<'_>, h: Tensor<2>) -> Tensor<2>;

    /// Called with a layer output of rank 3, `[batch, channels, length]` (the feature maps of a
    /// 1-D convolution): each channel is one unit, its statistics pooled over the batch and the
    /// positions (a dead channel is zero everywhere), and ‖∂L/∂h‖ is over the whole tensor.
    ///
    /// The default moves the channels last, flattens to `[batch·length, channels]`, observes that
    /// with [`LayerObserver::observe`] and folds the result back: every observer handles rank 3
    /// without code of its own, and the gradient reaching the flattened tensor is the layer's
    /// gradient, rearranged (same entries, same norm).
    fn observe_channels(&mut self, info: LayerInfo<'_>, h: Tensor<3>) -> Tensor<3> {
        let [batch, channels, length] = h.dims();
        let flat = h.swap_dims(1, 2).reshape([batch * length, channels]);
        self.observe(info, flat)
            .reshape([batch, length, channels])
            .swap_dims(1, 2)
    }

    /// Called with the hidden state `h_t` (`[batch, units]`) of recurrent layer `info.index` at
    /// time step `t` (1-based, in order), before the recurrence uses it for step `t + 1`;
    /// returns the tensor the recurrence continues with, which must equal `h` in value.
    ///
    /// A recurrent layer unrolled in its forward pass calls this for each of its time steps and
    /// then [`LayerObserver::observe`] once for its output (the layer boundary, usually the last
    /// hidden state). The diagnostics then record ‖∂L/∂h_t‖ for every t: the gradient through
    /// time, where the same Jacobian multiplies the signal at every step back. The default
    /// watches nothing.
    fn observe_step(&mut self, info: LayerInfo<'_>, t: usize, h: Tensor<2>) -> Tensor<2> {
        let _ = (info, t);
        h
    }
}

/// An observer that watches nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl LayerObserver for NoObserver {
    fn observe(&mut self, _info: LayerInfo<'_>, h: Tensor<2>) -> Tensor<2> {
        h
    }
}

/// An observer that keeps every layer output, detached (handy in tests and examples).
#[derive(Debug, Default, Clone)]
pub struct CollectOutputs {
    /// The outputs, in layer order.
    pub outputs: Vec<Tensor<2>>,
}

impl LayerObserver for CollectOutputs {
    fn observe(&mut self, _info: LayerInfo<'_>, h: Tensor<2>) -> Tensor<2> {
        self.outputs.push(h.clone().detach());
        h
    }
}
