//! Building burn's optimisers from the config, with PyTorch's conventions where burn's defaults
//! differ (SGD momentum dampening 0, Adam ε as configured), and the clipping burn does not have.

use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::Tensor;
use gradscope_config::{OptimKind, OptimSettings};
use gradscope_diagnostics::{clip_by_global_norm, clip_by_value};

/// The optimiser of a run, with its clipping.
pub struct Optimizer {
    inner: ModuleOptimizer,
    settings: OptimSettings,
}

impl Optimizer {
    /// Builds the optimiser described by `settings`.
    pub fn new(settings: &OptimSettings) -> Self {
        let per_param = settings
            .clip_norm_per_param
            .map(|c| GradientClippingConfig::Norm(c as f32));
        let decay = (settings.weight_decay > 0.0)
            .then(|| WeightDecayConfig::new(settings.weight_decay as f32));
        let inner = match settings.kind {
            OptimKind::Sgd => SgdConfig::new()
                .with_momentum((settings.momentum > 0.0).then_some(MomentumConfig {
                    momentum: settings.momentum,
                    dampening: 0.0,
                    nesterov: settings.nesterov,
                }))
                .with_weight_decay(decay)
                .with_gradient_clipping(per_param)
                .init(),
            OptimKind::Adam => AdamConfig::new()
                .with_beta_1(settings.beta1 as f32)
                .with_beta_2(settings.beta2 as f32)
                .with_epsilon(settings.eps as f32)
                .with_weight_decay(decay)
                .with_grad_clipping(per_param)
                .init(),
            OptimKind::AdamW => AdamWConfig::new()
                .with_beta_1(settings.beta1 as f32)
                .with_beta_2(settings.beta2 as f32)
                .with_epsilon(settings.eps as f32)
                .with_weight_decay(settings.weight_decay as f32)
                .with_grad_clipping(per_param)
                .init(),
        };
        Self {
            inner,
            settings: *settings,
        }
    }

    /// Applies global-norm and value clipping to `grads` (in that order, as PyTorch users
    /// usually do). `grad_norm_sq` is the global squared norm before clipping, on the device.
    pub fn clip<M: Module>(
        &self,
        grads: &mut GradientsParams,
        model: &M,
        grad_norm_sq: Option<Tensor<1>>,
    ) {
        if let (Some(max), Some(norm_sq)) = (self.settings.clip_norm, grad_norm_sq) {
            clip_by_global_norm(grads, model, norm_sq, max);
        }
        if let Some(c) = self.settings.clip_value {
            clip_by_value(grads, model, c);
        }
    }

    /// One optimiser step at learning rate `lr`.
    pub fn step<M: Module>(&mut self, lr: f64, model: M, grads: GradientsParams) -> M {
        self.inner.step(lr, model, grads)
    }
}
