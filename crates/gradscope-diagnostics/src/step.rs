//! One recorded step: tap every layer, forward, loss, backward, queue every per-layer reduction,
//! then either step the optimiser and finish against the new weights, or finish without an
//! update. The trainer's arms, `gradscope bench` and [`crate::probe`] all go through here, so
//! what a step measures, and in which order it is computed, is written once.
//!
//! ```
//! use burn::optim::{GradientsParams, Optimizer, SgdConfig};
//! use burn::tensor::Tensor;
//! use gradscope_diagnostics::{RecordOptions, Recorder};
//! use gradscope_model::{Activation, ForwardCtx, InitKind, MlpConfig, WeightInit, with_seed};
//!
//! let device = gradscope_model::BackendKind::Ndarray.autodiff_device();
//! let config = MlpConfig::new(8, 1, 16, 4, Activation::Tanh, WeightInit::new(InitKind::XavierNormal, 1.0));
//! let net = with_seed(&device, 0, |d| config.init(d));
//! let x = Tensor::<2>::ones([4, 8], &device);
//! let mut recorder = Recorder::new(RecordOptions::default());
//! let mut optim = SgdConfig::new().init();
//! let step = recorder.record(&net, x, &ForwardCtx::TRAIN, |y| y.square().mean());
//! let (net, measure) = step.update(net, |net, grads| {
//!     let grads = GradientsParams::from_grads(grads, &net);
//!     optim.step(0.1, net, grads)
//! });
//! assert_eq!(measure.layers.len(), 4);
//! assert!(measure.layers.iter().all(|l| l.update_ratio.unwrap() > 0.0));
//! ```

use burn::tensor::{Gradients, Tensor};
use gradscope_model::{ForwardCtx, Network, NoObserver};

use crate::measure::{PendingStep, Recorder, StepMeasure};

/// A step whose forward and backward passes have run and whose reductions are queued; what is
/// left is the optimiser step ([`ObservedStep::update`]) or none ([`ObservedStep::finish`]).
pub struct ObservedStep {
    pending: PendingStep,
    grads: Gradients,
}

impl Recorder {
    /// Runs `net` on `x` with every layer tapped, takes `loss_fn` of the output, back-propagates
    /// and queues every per-layer measurement of the step.
    pub fn record<N: Network>(
        &mut self,
        net: &N,
        x: Tensor<2>,
        ctx: &ForwardCtx,
        loss_fn: impl FnOnce(Tensor<2>) -> Tensor<1>,
    ) -> ObservedStep {
        self.record_inner(net, x, ctx, true, loss_fn)
    }

    /// As [`Recorder::record`], but the forward pass is not tapped: the parameters' gradient
    /// norms and the loss only (what `gradscope bench --mode gradnorms` prices).
    pub fn record_without_taps<N: Network>(
        &mut self,
        net: &N,
        x: Tensor<2>,
        ctx: &ForwardCtx,
        loss_fn: impl FnOnce(Tensor<2>) -> Tensor<1>,
    ) -> ObservedStep {
        self.record_inner(net, x, ctx, false, loss_fn)
    }

    fn record_inner<N: Network>(
        &mut self,
        net: &N,
        x: Tensor<2>,
        ctx: &ForwardCtx,
        taps: bool,
        loss_fn: impl FnOnce(Tensor<2>) -> Tensor<1>,
    ) -> ObservedStep {
        let mut tap = self.tap();
        let out = if taps {
            net.forward_observed(x, ctx, &mut tap)
        } else {
            net.forward_observed(x, ctx, &mut NoObserver)
        };
        let loss = loss_fn(out);
        // What needs only the forward pass (activation statistics, weight norms, power
        // iterations) is reduced on another thread of the pool while this one back-propagates.
        let mut forward = self.forward_part(net, &tap, &loss.device());
        let (early, grads) = forward.run_alongside(true, || loss.backward());
        let pending = self.backward_part(net, &tap, &loss, &grads, forward, early);
        ObservedStep { pending, grads }
    }
}

impl ObservedStep {
    /// The step's global squared gradient norm for global-norm clipping, on the device (no
    /// read-back); `net` is the network the step ran ([`crate::measure::clip_norm_sq`]).
    pub fn grad_norm_sq<N: Network>(&self, net: &N) -> Tensor<1> {
        crate::measure::clip_norm_sq(net, &self.grads)
            .unwrap_or_else(|| self.pending.grad_norm_sq())
    }

    /// Steps the optimiser (`step` gets the network and the gradients and returns the network
    /// after the update), then reads the step's measurements back, the update-to-weight ratios
    /// against the new weights included.
    pub fn update<N: Network>(
        self,
        net: N,
        step: impl FnOnce(N, Gradients) -> N,
    ) -> (N, StepMeasure) {
        let stepped = step(net, self.grads);
        let measure = self.pending.finish(Some(&stepped));
        (stepped, measure)
    }

    /// Reads the step's measurements back without an update (a learning-rate-0 baseline, a probe
    /// at initialisation).
    pub fn finish<N: Network>(self) -> StepMeasure {
        self.pending.finish::<N>(None)
    }
}
