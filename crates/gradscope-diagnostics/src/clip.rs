//! Gradient clipping, named honestly.
//!
//! - [`clip_by_global_norm`] is PyTorch's `clip_grad_norm_`: one norm over all parameters, every
//!   gradient scaled by `min(1, max_norm / (norm + 1e-6))`.
//! - [`clip_by_value`] is PyTorch's `clip_grad_value_`: every entry clamped to `[−c, c]`.
//! - burn's `GradientClippingConfig::Norm` clips each parameter tensor by its own norm, which is
//!   a different operation: the trainer exposes it separately as per-parameter clipping.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

struct MapGrads<'a, F: FnMut(Tensor<1>) -> Tensor<1>> {
    grads: &'a mut GradientsParams,
    f: F,
}

impl<F: FnMut(Tensor<1>) -> Tensor<1>> ModuleVisitor for MapGrads<'_, F> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.remove::<D>(param.id) {
            let shape = g.shape();
            let flat = g.flatten::<1>(0, D - 1);
            let mapped = (self.f)(flat).reshape(shape);
            self.grads.register::<D>(param.id, mapped);
        }
    }
}

/// Applies `f` to every parameter gradient of `module` in `grads`.
pub fn map_grads<M: Module>(
    grads: &mut GradientsParams,
    module: &M,
    f: impl FnMut(Tensor<1>) -> Tensor<1>,
) {
    module.visit(&mut MapGrads { grads, f });
}

/// The squared global norm of `module`'s gradients in `grads` (a `[1]` device tensor; `None` when
/// `grads` holds none of them), for clipping a subset of the parameters on its own.
pub fn grads_norm_sq<M: Module>(grads: &mut GradientsParams, module: &M) -> Option<Tensor<1>> {
    let mut sum: Option<Tensor<1>> = None;
    map_grads(grads, module, |g| {
        let sq = g.clone().square().sum();
        sum = Some(match sum.take() {
            Some(s) => s.add(sq),
            None => sq,
        });
        g
    });
    sum
}

/// Scales every gradient by `min(1, max_norm / (norm + 1e-6))`, where `norm_sq` is the global
/// squared norm (a `[1]` device tensor, so no read-back is needed). Returns the scale tensor.
pub fn clip_by_global_norm<M: Module>(
    grads: &mut GradientsParams,
    module: &M,
    norm_sq: Tensor<1>,
    max_norm: f64,
) -> Tensor<1> {
    let norm = norm_sq.sqrt();
    let scale = norm
        .add_scalar(1e-6)
        .recip()
        .mul_scalar(max_norm)
        .clamp_max(1.0);
    let s = scale.clone();
    map_grads(grads, module, |g| g.mul(s.clone()));
    scale
}

/// Clamps every gradient entry to `[−c, c]`.
pub fn clip_by_value<M: Module>(grads: &mut GradientsParams, module: &M, c: f64) {
    map_grads(grads, module, |g| g.clamp(-c, c));
}
