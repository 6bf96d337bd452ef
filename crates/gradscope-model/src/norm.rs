//! Normalisation layers (batch, layer, RMS) behind one module, with controllable running
//! statistics for batch norm.

use std::fmt;
use std::str::FromStr;

use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, LayerNorm, LayerNormConfig, RmsNorm, RmsNormConfig};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::ForwardCtx;

/// Which normalisation a layer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormKind {
    /// No normalisation.
    None,
    /// Batch norm (Ioffe & Szegedy 2015): per feature, over the batch.
    Batch,
    /// Layer norm (Ba et al. 2016): per sample, over the features.
    Layer,
    /// RMS norm (Zhang & Sennrich 2019): per sample, divide by the root mean square.
    Rms,
}

impl NormKind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [NormKind; 4] = [
        NormKind::None,
        NormKind::Batch,
        NormKind::Layer,
        NormKind::Rms,
    ];

    /// The name used in config files.
    pub fn name(self) -> &'static str {
        match self {
            NormKind::None => "none",
            NormKind::Batch => "batch",
            NormKind::Layer => "layer",
            NormKind::Rms => "rms",
        }
    }

    /// Builds the layer for `features` features; `None` for [`NormKind::None`].
    pub fn init(self, features: usize, device: &Device) -> Option<Norm> {
        match self {
            NormKind::None => None,
            NormKind::Batch => Some(Norm::Batch(BatchNormConfig::new(features).init(device))),
            NormKind::Layer => Some(Norm::Layer(LayerNormConfig::new(features).init(device))),
            NormKind::Rms => Some(Norm::Rms(RmsNormConfig::new(features).init(device))),
        }
    }
}

impl fmt::Display for NormKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for NormKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NormKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| "expected one of none, batch, layer, rms".to_string())
    }
}

/// Where the normalisation sits.
///
/// In a plain layer `pre` normalises the pre-activation (Linear → Norm → φ, the original batch
/// norm placement) and `post` the activation (Linear → φ → Norm). In a residual block `pre` puts
/// the norm inside the branch, before its activation (pre-norm, He et al. 2016 "Identity
/// mappings"), and `post` after the addition (post-norm, the original ResNet and Transformer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormPosition {
    /// Before the activation / inside the residual branch.
    Pre,
    /// After the activation / after the residual addition.
    Post,
}

impl NormPosition {
    /// The name used in config files.
    pub fn name(self) -> &'static str {
        match self {
            NormPosition::Pre => "pre",
            NormPosition::Post => "post",
        }
    }
}

impl FromStr for NormPosition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pre" => Ok(NormPosition::Pre),
            "post" => Ok(NormPosition::Post),
            _ => Err("expected one of pre, post".to_string()),
        }
    }
}

/// A normalisation layer on `[batch, features]` inputs.
#[derive(Module, Debug)]
pub enum Norm {
    /// Batch norm; its running statistics follow [`ForwardCtx`].
    Batch(BatchNorm),
    /// Layer norm.
    Layer(LayerNorm),
    /// RMS norm.
    Rms(RmsNorm),
}

impl Norm {
    /// Normalises `x` (`[batch, features]`).
    ///
    /// Batch norm takes its statistics from the batch when `ctx.batch_stats` is set, whatever the
    /// device (burn's own `BatchNorm::forward` decides from the device and a training flag), and
    /// updates its running averages only when `ctx.update_running_stats` is also set.
    pub fn forward(&self, x: Tensor<2>, ctx: &ForwardCtx) -> Tensor<2> {
        match self {
            Norm::Batch(bn) => batch_norm(bn, x, ctx),
            Norm::Layer(ln) => ln.forward(x),
            Norm::Rms(rms) => rms.forward(x),
        }
    }

    /// The kind of this layer.
    pub fn kind(&self) -> NormKind {
        match self {
            Norm::Batch(_) => NormKind::Batch,
            Norm::Layer(_) => NormKind::Layer,
            Norm::Rms(_) => NormKind::Rms,
        }
    }
}

fn batch_norm(bn: &BatchNorm, x: Tensor<2>, ctx: &ForwardCtx) -> Tensor<2> {
    let device = x.device();
    if !ctx.batch_stats {
        return burn::tensor::module::batch_norm(
            x,
            bn.gamma.val(),
            bn.beta.val(),
            bn.running_mean.value_sync().to_device(&device),
            bn.running_var.value_sync().to_device(&device),
            bn.epsilon,
        );
    }
    let out = burn::tensor::module::batch_norm_train(x, bn.gamma.val(), bn.beta.val(), bn.epsilon);
    if ctx.update_running_stats {
        let m = bn.momentum;
        let mean = bn.running_mean.value_sync().to_device(&device);
        let var = bn.running_var.value_sync().to_device(&device);
        let mean = mean
            .mul_scalar(1.0 - m)
            .add(out.mean.detach().mul_scalar(m));
        let var = var
            .mul_scalar(1.0 - m)
            .add(out.variance.detach().mul_scalar(m));
        bn.running_mean.update(mean.detach());
        bn.running_var.update(var.detach());
    }
    out.output
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Running statistics are synchronised lazily by burn (`value()` may lag one update).
    fn vec(t: Tensor<1>) -> Vec<f32> {
        t.into_data().try_to_vec().unwrap()
    }

    /// Training mode normalises with the batch's statistics; evaluation with the running ones;
    /// a probe uses the batch but leaves the running averages untouched.
    #[test]
    fn batch_norm_train_eval_and_probe() {
        let device = crate::BackendKind::Ndarray.autodiff_device();
        let norm = NormKind::Batch.init(2, &device).unwrap();
        let x = Tensor::<2>::from_floats([[1.0, 10.0], [3.0, 30.0]], &device);

        // Probe: output standardised per feature, running stats unchanged (0 and 1).
        let y: Vec<f32> = norm
            .forward(x.clone(), &ForwardCtx::PROBE)
            .into_data()
            .try_to_vec()
            .unwrap();
        for (got, want) in y.iter().zip([-1.0, -1.0, 1.0, 1.0]) {
            assert!((got - want).abs() < 1e-3, "{y:?}");
        }
        let Norm::Batch(bn) = &norm else {
            unreachable!()
        };
        assert_eq!(vec(bn.running_mean.value_sync()), vec![0.0, 0.0]);

        // Train: same output, running mean moves by momentum 0.1 towards the batch mean.
        let _ = norm.forward(x.clone(), &ForwardCtx::TRAIN);
        let mean = vec(bn.running_mean.value_sync());
        assert!(
            (mean[0] - 0.2).abs() < 1e-6 && (mean[1] - 2.0).abs() < 1e-5,
            "{mean:?}"
        );

        // Eval: uses running statistics, so a sample equal to the running mean maps to beta = 0.
        let probe = Tensor::<2>::from_floats([[0.2, 2.0]], &device);
        let y: Vec<f32> = norm
            .forward(probe, &ForwardCtx::EVAL)
            .into_data()
            .try_to_vec()
            .unwrap();
        assert!(y.iter().all(|v| v.abs() < 1e-5), "{y:?}");
        let after = vec(bn.running_mean.value_sync());
        assert_eq!(after, mean, "evaluation must not update running statistics");
    }
}
