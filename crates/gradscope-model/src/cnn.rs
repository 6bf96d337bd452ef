//! 1-D convolutional nets: `depth` blocks of `channels` feature maps, kernel `kernel`, same
//! padding, then global average pooling and a linear head.
//!
//! A row of the data is a signal of `input_dim / step_features` positions with `step_features`
//! channels (`[x_1, x_2, …]`, each position's channels together: MNIST-1D is one channel of 40).
//! The first block maps the input channels to `channels`; every block after it is
//!
//! - plain: `h = φ(N(W ∗ h + b))`;
//! - residual (pre-activation, He et al. 2016): `h = h + W ∗ φ(N(h)) + b`.
//!
//! Norms are per channel: batch norm over the batch and the positions, layer norm over the
//! channels at each position. Weights are drawn by the MLP's initialisers with fan-in
//! `channels × kernel` (the number of inputs each output sums), so σ_w² has the mean-field
//! meaning it has for a dense layer. Each block's output `[batch, channels, length]` is observed
//! through [`crate::LayerObserver::observe_channels`].

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::nn::Linear;
use burn::tensor::module::conv1d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor};

use crate::block::linear;
use crate::error::{check_depth, check_scale, check_step_features};
use crate::facts::{Family, InitFacts, ModelFacts, ResidualFacts};
use crate::init::{WeightInit, draw_bias};
use crate::net::linear_params;
use crate::norm::{Norm, NormKind, NormPosition};
use crate::observer::{LayerInfo, LayerObserver};
use crate::{Activation, Architecture, DataShape, Footprint, ForwardCtx, ModelError, Network};

/// Configuration of a 1-D conv net.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CnnConfig {
    /// Values per row: `length × step_features`.
    pub input_dim: usize,
    /// Output dimension.
    pub output_dim: usize,
    /// Input channels (values per position).
    pub step_features: usize,
    /// Feature maps per block.
    pub channels: usize,
    /// Kernel width (odd, so that same padding is symmetric).
    pub kernel: usize,
    /// Conv blocks.
    pub depth: usize,
    /// Activation φ.
    pub activation: Activation,
    /// Weight initialiser.
    pub init: WeightInit,
    /// Standard deviation of the bias init (`None`: no bias).
    pub bias: Option<f64>,
    /// Pre-activation residual blocks after the first.
    pub residual: bool,
    /// Normalisation (`none`, `batch`, `layer`).
    pub norm: NormKind,
}

impl CnnConfig {
    /// Positions of the signal.
    pub fn length(&self) -> usize {
        self.input_dim / self.step_features.max(1)
    }

    fn block(&self, i: usize, device: &Device) -> ConvBlock {
        let c_in = if i == 0 {
            self.step_features
        } else {
            self.channels
        };
        let c = self.channels;
        let k = self.kernel;
        // [c_in·k, c] drawn as a dense layer's weight, then laid out as burn's [c_out, c_in, k].
        let weight = self
            .init
            .draw(c_in * k, c, device)
            .transpose()
            .reshape([c, c_in, k]);
        let residual = self.residual && i > 0;
        // A residual block normalises its input, a plain one its conv's output: c channels.
        ConvBlock {
            weight: Param::from_tensor(weight),
            bias: self
                .bias
                .map(|s| Param::from_tensor(draw_bias(c, s, device))),
            norm: self.norm.init(c, device),
            activation: self.activation,
            residual,
            padding: k / 2,
        }
    }

    /// Builds the network, drawing every weight now: blocks in order, then the head.
    pub fn init(&self, device: &Device) -> Cnn {
        let blocks = (0..self.depth).map(|i| self.block(i, device)).collect();
        let head = linear(
            self.channels,
            self.output_dim,
            &self.init,
            Some(0.0),
            device,
        );
        Cnn {
            blocks,
            head,
            step_features: self.step_features,
        }
    }
}

/// One conv block.
#[derive(Module, Debug)]
pub struct ConvBlock {
    /// `[c_out, c_in, kernel]`.
    pub weight: Param<Tensor<3>>,
    /// `[c_out]`.
    pub bias: Option<Param<Tensor<1>>>,
    /// Per-channel normalisation.
    pub norm: Option<Norm>,
    /// φ.
    #[module(skip)]
    pub activation: Activation,
    /// Pre-activation residual block.
    #[module(skip)]
    pub residual: bool,
    /// Same padding on each side.
    #[module(skip)]
    pub padding: usize,
}

impl ConvBlock {
    fn conv(&self, h: Tensor<3>) -> Tensor<3> {
        conv1d(
            h,
            self.weight.val(),
            self.bias.as_ref().map(|b| b.val()),
            ConvOptions::new([1], [self.padding], [1], 1),
        )
    }

    /// Per-channel normalisation of `[batch, channels, length]`: the positions fold into the
    /// batch, so batch norm pools over samples and positions and layer norm acts on the
    /// channels at each position.
    fn normalise(&self, h: Tensor<3>, ctx: &ForwardCtx) -> Tensor<3> {
        let Some(norm) = &self.norm else { return h };
        let [b, c, l] = h.dims();
        let flat = h.swap_dims(1, 2).reshape([b * l, c]);
        norm.forward(flat, ctx).reshape([b, l, c]).swap_dims(1, 2)
    }

    fn forward(&self, h: Tensor<3>, ctx: &ForwardCtx) -> Tensor<3> {
        if self.residual {
            let branch = self.conv(self.activation.forward(self.normalise(h.clone(), ctx)));
            h.add(branch)
        } else {
            self.activation.forward(self.normalise(self.conv(h), ctx))
        }
    }
}

/// A 1-D conv net with global average pooling and a linear head.
#[derive(Module, Debug)]
pub struct Cnn {
    /// The blocks; block `i` is layer `i + 1`.
    pub blocks: Vec<ConvBlock>,
    /// The output head on the pooled channels.
    pub head: Linear,
    /// Input channels.
    #[module(skip)]
    pub step_features: usize,
}

impl Network for Cnn {
    fn num_layers(&self) -> usize {
        self.blocks.len()
    }

    fn layer_name(&self, index: usize) -> String {
        format!("blocks.{}", index - 1)
    }

    fn forward_observed(
        &self,
        x: Tensor<2>,
        ctx: &ForwardCtx,
        observer: &mut dyn LayerObserver,
    ) -> Tensor<2> {
        let [batch, features] = x.dims();
        let c = self.step_features.max(1);
        let mut h = x.reshape([batch, features / c, c]).swap_dims(1, 2);
        for (i, block) in self.blocks.iter().enumerate() {
            h = block.forward(h, ctx);
            let name = self.layer_name(i + 1);
            let info = LayerInfo {
                index: i + 1,
                name: &name,
                // A residual block's output is a sum, not the activation's output.
                activation: (!block.residual).then_some(block.activation),
            };
            h = observer.observe_channels(info, h);
        }
        let [b, ch, _] = h.dims();
        self.head.forward(h.mean_dim(2).reshape([b, ch]))
    }

    fn visit_layer<V: ModuleVisitor>(&self, index: usize, visitor: &mut V) {
        if let Some(block) = self.blocks.get(index - 1) {
            block.visit(visitor);
        }
    }

    fn head_params(&self) -> Vec<ParamId> {
        linear_params(&self.head)
    }
}

impl Architecture for CnnConfig {
    type Net = Cnn;
    const KIND: &'static str = "cnn";

    fn init(&self, device: &Device) -> Self::Net {
        CnnConfig::init(self, device)
    }

    /// `step_features = 0` (the config's default) takes the data set's.
    fn with_data(mut self, data: DataShape) -> Self {
        self.input_dim = data.input_dim;
        self.output_dim = data.output_dim;
        if self.step_features == 0 {
            self.step_features = data.step_features;
        }
        self
    }

    fn validate(&self) -> Result<(), ModelError> {
        if self.channels == 0 {
            return Err(ModelError::invalid(
                "model.channels",
                "0",
                "must be at least 1",
            ));
        }
        if self.kernel.is_multiple_of(2) {
            return Err(ModelError::invalid(
                "model.kernel",
                self.kernel.to_string(),
                "must be odd (same padding on both sides)",
            ));
        }
        check_depth(self.depth)?;
        check_step_features(self.step_features, self.input_dim, "positions")?;
        if !matches!(
            self.norm,
            NormKind::None | NormKind::Batch | NormKind::Layer
        ) {
            return Err(ModelError::invalid(
                "model.norm",
                format!("{:?}", self.norm.name()),
                "a conv net takes none, batch or layer",
            ));
        }
        check_scale("model.sigma_w", self.init.sigma_w)
    }

    fn depth(&self) -> usize {
        self.depth
    }

    fn layer_name(&self, index: usize) -> String {
        format!("blocks.{}", index.saturating_sub(1))
    }

    fn footprint(&self) -> Footprint {
        let (c, k, l) = (
            self.channels as f64,
            self.kernel as f64,
            self.length() as f64,
        );
        let d = self.depth as f64;
        Footprint {
            parameters: self.step_features as f64 * k * c
                + (d - 1.0) * c * c * k
                + 3.0 * d * c
                + c * self.output_dim as f64
                + self.output_dim as f64,
            // Per block and position: the conv's output, the norm's, the activation's, the tap.
            activations_per_sample: d * l * c * 5.0 + self.output_dim as f64,
            widest_layer: (c * l).max(self.input_dim as f64),
        }
    }

    fn facts(&self) -> ModelFacts {
        let fan = |c_in: usize| c_in * self.kernel;
        ModelFacts {
            family: Family::Stack,
            width: Some(self.channels),
            activation: Some(self.activation),
            init: Some(InitFacts {
                init: self.init,
                sigma_w2_first: self
                    .init
                    .sigma_w2_effective(fan(self.step_features), self.channels),
                sigma_w2_hidden: self
                    .init
                    .sigma_w2_effective(fan(self.channels), self.channels),
            }),
            bias_std: self.bias,
            residual: self.residual.then_some(ResidualFacts {
                block_linears: 1,
                branch_scale: None,
            }),
            norm: self.norm,
            norm_position: NormPosition::Pre,
            ..ModelFacts::stack(self.depth)
        }
    }

    fn describe(&self) -> String {
        format!(
            "cnn: {} positions x {} -> {} blocks of {} channels, kernel {}, {}, {} (sigma_w {}){}{} -> pool -> {}",
            self.length(),
            self.step_features,
            self.depth,
            self.channels,
            self.kernel,
            self.activation,
            self.init.kind,
            self.init.sigma_w,
            if self.residual { ", residual" } else { "" },
            match self.norm {
                NormKind::None => String::new(),
                n => format!(", {n} norm"),
            },
            self.output_dim
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CollectOutputs, InitKind, with_seed};
    use burn::tensor::Distribution;

    fn config(residual: bool, norm: NormKind) -> CnnConfig {
        CnnConfig {
            input_dim: 10,
            output_dim: 3,
            step_features: 1,
            channels: 4,
            kernel: 3,
            depth: 3,
            activation: Activation::Tanh,
            init: WeightInit::new(InitKind::HeNormal, 1.0),
            bias: Some(0.1),
            residual,
            norm,
        }
    }

    /// The first block's convolution against a host computation with zero padding: the layout
    /// `[c_out, c_in, k]`, same padding and the bias are what the docs say.
    #[test]
    fn the_convolution_is_a_same_padded_correlation() {
        let device = crate::BackendKind::Ndarray.device();
        let c = config(false, NormKind::None);
        let (net, x) = with_seed(&device, 2, |d| {
            (
                c.init(d),
                Tensor::<2>::random([2, 10], Distribution::Normal(0.0, 1.0), d),
            )
        });
        let xs: Vec<f32> = x.clone().into_data().try_to_vec().unwrap();
        let w: Vec<f32> = net.blocks[0].weight.val().into_data().try_to_vec().unwrap();
        let b: Vec<f32> = net.blocks[0]
            .bias
            .as_ref()
            .unwrap()
            .val()
            .into_data()
            .try_to_vec()
            .unwrap();
        let mut seen = CollectOutputs::default();
        let _ = net.forward_observed(x, &ForwardCtx::EVAL, &mut seen);
        // observe_channels hands `[batch·length, channels]`, position-major.
        let got: Vec<f32> = seen.outputs[0].clone().into_data().try_to_vec().unwrap();
        for n in 0..2 {
            for o in 0..4 {
                for p in 0..10 {
                    let mut s = b[o] as f64;
                    for j in 0..3 {
                        let q = p as i64 + j as i64 - 1;
                        if (0..10).contains(&q) {
                            s += w[o * 3 + j] as f64 * xs[n * 10 + q as usize] as f64;
                        }
                    }
                    let want = s.tanh();
                    let g = got[(n * 10 + p) * 4 + o] as f64;
                    assert!((g - want).abs() < 1e-5, "[{n}, {o}, {p}] {g} vs {want}");
                }
            }
        }
    }

    /// Every block keeps the shape; plain, residual and normalised nets all give `[batch, out]`.
    #[test]
    fn every_variant_runs_and_is_observed_per_block() {
        let device = crate::BackendKind::Ndarray.device();
        for (residual, norm) in [
            (false, NormKind::None),
            (true, NormKind::None),
            (false, NormKind::Batch),
            (true, NormKind::Layer),
        ] {
            let net = with_seed(&device, 0, |d| config(residual, norm).init(d));
            let mut seen = CollectOutputs::default();
            let y = net.forward_observed(
                Tensor::<2>::ones([5, 10], &device),
                &ForwardCtx::EVAL,
                &mut seen,
            );
            assert_eq!(y.dims(), [5, 3]);
            assert_eq!(seen.outputs.len(), 3);
            assert!(seen.outputs.iter().all(|h| h.dims() == [50, 4]));
        }
    }
}
