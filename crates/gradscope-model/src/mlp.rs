//! Deep MLPs: `depth` hidden [`DenseBlock`]s of one width, then a linear head.

use burn::tensor::Device;

use crate::block::{DenseBlock, DenseBlockConfig, DenseLayout, linear};
use crate::error::{check_depth, check_scale};
use crate::facts::{Family, InitFacts, ModelFacts, ResidualFacts};
use crate::init::WeightInit;
use crate::norm::{NormKind, NormPosition};
use crate::{Activation, Architecture, DataShape, DeepNet, Footprint, ModelError};

/// The largest depth the toolkit accepts (deeper nets are possible but not useful on a CPU).
pub const MAX_DEPTH: usize = 1000;

/// Configuration of a deep MLP. Build it from a checked config, or call [`MlpConfig::validate`]
/// before [`MlpConfig::init`]: `init` assumes the sizes are sane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MlpConfig {
    /// Input dimension.
    pub input_dim: usize,
    /// Output dimension (classes, or regression targets).
    pub output_dim: usize,
    /// Width of every hidden layer.
    pub width: usize,
    /// Number of hidden blocks (1 to [`MAX_DEPTH`]).
    pub depth: usize,
    /// Activation φ.
    pub activation: Activation,
    /// Weight initialiser (family and σ_w).
    pub init: WeightInit,
    /// Whether layers have a bias.
    pub bias: bool,
    /// Standard deviation of the bias init (0 = zeros).
    pub sigma_b: f64,
    /// Identity skip connections around each block.
    pub residual: bool,
    /// Linear layers per residual block (1 or 2).
    pub block_linears: usize,
    /// Initial learnable branch scale α₀ (residual only); `None` = fixed α = 1.
    pub branch_scale: Option<f64>,
    /// Normalisation.
    pub norm: NormKind,
    /// Where the normalisation sits.
    pub norm_position: NormPosition,
}

impl MlpConfig {
    /// A plain MLP with the given sizes, activation and init, no bias, no skips, no norm.
    pub fn new(
        input_dim: usize,
        output_dim: usize,
        width: usize,
        depth: usize,
        activation: Activation,
        init: WeightInit,
    ) -> Self {
        Self {
            input_dim,
            output_dim,
            width,
            depth,
            activation,
            init,
            bias: false,
            sigma_b: 0.0,
            residual: false,
            block_linears: 1,
            branch_scale: None,
            norm: NormKind::None,
            norm_position: NormPosition::Pre,
        }
    }

    /// Checks every field; the error names the config key.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |key: &str, value: String, rule: &str| Err(ModelError::invalid(key, value, rule));
        if self.input_dim == 0 {
            return bad(
                "data.dim",
                "0".into(),
                "the input dimension must be at least 1",
            );
        }
        if self.output_dim == 0 {
            return bad("model.output_dim", "0".into(), "must be at least 1");
        }
        if self.width == 0 {
            return bad("model.width", "0".into(), "must be at least 1");
        }
        check_depth(self.depth)?;
        check_scale("model.sigma_w", self.init.sigma_w)?;
        check_scale("model.sigma_b", self.sigma_b)?;
        if !(1..=2).contains(&self.block_linears) {
            return bad(
                "model.block_linears",
                self.block_linears.to_string(),
                "must be 1 or 2",
            );
        }
        if let Some(a) = self.branch_scale
            && !a.is_finite()
        {
            return bad("model.branch_scale", a.to_string(), "must be finite");
        }
        Ok(())
    }

    /// The configuration of hidden block `i` (0-based).
    pub fn block_config(&self, i: usize) -> DenseBlockConfig {
        DenseBlockConfig {
            d_in: if i == 0 { self.input_dim } else { self.width },
            d_out: self.width,
            layout: DenseLayout {
                activation: self.activation,
                residual: self.residual,
                norm_position: self.norm_position,
            },
            norm: self.norm,
            linears: self.block_linears,
            init: self.init,
            bias: self.bias.then_some(self.sigma_b),
            branch_scale: self.branch_scale,
        }
    }

    /// Builds the network, drawing every weight now: blocks in order, then the head.
    pub fn init(&self, device: &Device) -> DeepNet<DenseBlock> {
        let blocks = (0..self.depth)
            .map(|i| self.block_config(i).init(device))
            .collect();
        let head = linear(
            self.width,
            self.output_dim,
            &self.init,
            self.bias.then_some(self.sigma_b),
            device,
        );
        DeepNet::new(blocks, head)
    }
}

impl Architecture for MlpConfig {
    type Net = DeepNet<DenseBlock>;
    const KIND: &'static str = "mlp";

    fn init(&self, device: &Device) -> Self::Net {
        MlpConfig::init(self, device)
    }

    fn with_data(mut self, data: DataShape) -> Self {
        self.input_dim = data.input_dim;
        self.output_dim = data.output_dim;
        self
    }

    fn validate(&self) -> Result<(), ModelError> {
        MlpConfig::validate(self)
    }

    fn depth(&self) -> usize {
        self.depth
    }

    fn layer_name(&self, index: usize) -> String {
        format!("blocks.{}", index.saturating_sub(1))
    }

    fn footprint(&self) -> Footprint {
        // f64 throughout: a width of 10⁹ squared times a depth overflows u64.
        let (d_in, w, out) = (
            self.input_dim as f64,
            self.width as f64,
            self.output_dim as f64,
        );
        let linears = self.block_linears as f64;
        let first = d_in * w
            + (linears - 1.0) * w * w
            + if self.residual && self.input_dim != self.width {
                d_in * w
            } else {
                0.0
            };
        let rest = (self.depth as f64 - 1.0) * linears * w * w;
        // Biases, norm scales and shifts, branch scales: a few vectors per block.
        let vectors = self.depth as f64 * (linears + 3.0) * w;
        Footprint {
            parameters: first + rest + vectors + w * out + out,
            // What autodiff keeps per sample and block: each linear's input and output, the
            // activation, the norm's output, and the observation tap.
            activations_per_sample: self.depth as f64 * (3.0 * linears + 3.0) * w + out,
            widest_layer: w.max(d_in).max(out),
        }
    }

    fn facts(&self) -> ModelFacts {
        ModelFacts {
            family: Family::Stack,
            depth: self.depth,
            width: Some(self.width),
            activation: Some(self.activation),
            init: Some(InitFacts {
                init: self.init,
                sigma_w2_first: self.init.sigma_w2_effective(self.input_dim, self.width),
                sigma_w2_hidden: self.init.sigma_w2_effective(self.width, self.width),
            }),
            bias_std: self.bias.then_some(self.sigma_b),
            residual: self.residual.then_some(ResidualFacts {
                block_linears: self.block_linears,
                branch_scale: self.branch_scale,
            }),
            norm: self.norm,
            norm_position: self.norm_position,
        }
    }

    fn describe(&self) -> String {
        format!(
            "mlp: {} -> {}x{} -> {}, {}, {} (sigma_w {}), bias {}{}{}{}",
            self.input_dim,
            self.depth,
            self.width,
            self.output_dim,
            self.activation,
            self.init.kind,
            self.init.sigma_w,
            if self.bias {
                format!("N(0, {}^2)", self.sigma_b)
            } else {
                "off".into()
            },
            if self.residual {
                format!(", residual ({} linear/block)", self.block_linears)
            } else {
                String::new()
            },
            self.branch_scale.map_or(String::new(), |a| format!(
                ", learnable branch scale from {a}"
            )),
            match self.norm {
                NormKind::None => String::new(),
                n => format!(", {n} norm ({})", self.norm_position.name()),
            },
        )
    }
}
