//! The built-in architectures: one [`Architecture`] impl each, registered on one line of
//! [`builtin_models!`], which makes [`ModelSpec`] (the checked description a config chooses at
//! run time) and [`AnyNet`] (the network it builds).
//!
//! Nothing outside this file matches on which built-in model a run uses: the trainer builds a
//! [`ModelSpec`] into an [`AnyNet`] and trains it as it would any [`Network`]; the diagnosis and
//! the theory read [`ModelSpec::facts`]; the memory check reads [`ModelSpec::footprint`].
//!
//! # Adding a built-in architecture
//!
//! 1. **One model file** in this crate (say `conv.rs`): a config struct (`Copy`, `PartialEq`),
//!    the network it builds (a burn module implementing [`Network`], or a [`crate::Block`]
//!    stacked by [`crate::DeepNet`]), and `impl Architecture for ConvConfig` (its `KIND` is the
//!    config file's `model.kind`; `facts` says what the diagnosis may assume about it).
//! 2. **One registration line** in the [`builtin_models!`] invocation below:
//!    `Conv(ConvConfig),`.
//! 3. **One config section** in `gradscope-config` (`checked.rs`): the function that checks the
//!    `[model]` keys of that kind and returns `ModelSpec::Conv(..)`, listed on one line of the
//!    `MODEL_SECTIONS` table there (new keys go into `RawModel` with their defaults).
//!
//! The trainer, the diagnosis, the report and the sweeps need no edit.

use std::fmt::Debug;

use burn::module::{Module, ModuleVisitor};
use burn::tensor::{Device, Tensor};

use crate::observer::LayerObserver;
use crate::{
    ChainConfig, CnnConfig, ForwardCtx, MlpConfig, ModelError, ModelFacts, Network, RnnConfig,
};

/// A built-in architecture: its configuration, and how it builds, names and sizes its network.
pub trait Architecture: Copy + Debug + PartialEq {
    /// The network this configuration builds.
    type Net: Network;

    /// `model.kind` in a config file.
    const KIND: &'static str;

    /// Builds the network on `device`, drawing weights in a fixed order (the caller seeds).
    fn init(&self, device: &Device) -> Self::Net;

    /// The same configuration for data of this shape (a config names the architecture before
    /// the data set fixes its dimensions).
    fn with_data(self, data: DataShape) -> Self;

    /// Checks every field; the error names the config key. `init` may assume it passed.
    fn validate(&self) -> Result<(), ModelError>;

    /// Number of observed layers.
    fn depth(&self) -> usize;

    /// The name of layer `index` (1-based), as the built network's [`Network::layer_name`].
    fn layer_name(&self, index: usize) -> String;

    /// How much memory the model takes, from its configuration alone: checked before anything
    /// is built, so that a size that cannot fit is refused instead of aborting the process.
    fn footprint(&self) -> Footprint;

    /// What the diagnosis and the theory may assume about the model.
    fn facts(&self) -> ModelFacts;

    /// One line describing the model, for logs and reports.
    fn describe(&self) -> String;
}

/// What a model needs to know of its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataShape {
    /// Values per row.
    pub input_dim: usize,
    /// Outputs (classes, or regression targets).
    pub output_dim: usize,
    /// Values per position when a row is a sequence or a signal (the adding problem: 2).
    pub step_features: usize,
}

/// The sizes of a model that decide its memory, in numbers of f32 values (see
/// [`Architecture::footprint`]). Estimates, kept on the generous side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Footprint {
    /// Trainable parameters.
    pub parameters: f64,
    /// Values autodiff keeps per sample of a batch for the backward pass.
    pub activations_per_sample: f64,
    /// The widest layer (an evaluation pass holds about two layers of this width per row).
    pub widest_layer: f64,
}

/// Makes [`ModelSpec`] and [`AnyNet`] from a list of `Variant(ConfigType)`, each type an
/// [`Architecture`]: the one place that lists the built-in models.
macro_rules! builtin_models {
    ($($(#[$doc:meta])* $variant:ident($config:ty),)+) => {
        /// A checked description of a built-in model, chosen by a config at run time.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum ModelSpec {
            $($(#[$doc])* $variant($config),)+
        }

        /// Any built-in model, as built from its [`ModelSpec`].
        #[derive(Module, Debug)]
        pub enum AnyNet {
            $($(#[$doc])* $variant(<$config as Architecture>::Net),)+
        }

        impl ModelSpec {
            /// Every `model.kind`, in registration order.
            pub const KINDS: &'static [&'static str] = &[$(<$config as Architecture>::KIND,)+];

            /// Builds the model, every parameter drawn now (see [`crate::materialize_params`]).
            pub fn init(&self, device: &Device) -> AnyNet {
                let net = match self {
                    $(ModelSpec::$variant(c) => AnyNet::$variant(c.init(device)),)+
                };
                crate::materialize_params(&net);
                net
            }

            /// The same model for data of this shape.
            pub fn with_data(self, data: DataShape) -> Self {
                match self {
                    $(ModelSpec::$variant(c) => ModelSpec::$variant(c.with_data(data)),)+
                }
            }

            fn info(&self) -> &dyn ArchitectureInfo {
                match self {
                    $(ModelSpec::$variant(c) => c,)+
                }
            }
        }

        impl Network for AnyNet {
            fn num_layers(&self) -> usize {
                match self {
                    $(AnyNet::$variant(n) => n.num_layers(),)+
                }
            }

            fn layer_name(&self, index: usize) -> String {
                match self {
                    $(AnyNet::$variant(n) => n.layer_name(index),)+
                }
            }

            fn forward_observed(
                &self,
                x: Tensor<2>,
                ctx: &ForwardCtx,
                observer: &mut dyn LayerObserver,
            ) -> Tensor<2> {
                match self {
                    $(AnyNet::$variant(n) => n.forward_observed(x, ctx, observer),)+
                }
            }

            fn visit_layer<V: ModuleVisitor>(&self, index: usize, visitor: &mut V) {
                match self {
                    $(AnyNet::$variant(n) => n.visit_layer(index, visitor),)+
                }
            }

            fn head_params(&self) -> Vec<burn::module::ParamId> {
                match self {
                    $(AnyNet::$variant(n) => n.head_params(),)+
                }
            }

            fn recurrent_matrix(&self, index: usize) -> Option<Tensor<2>> {
                match self {
                    $(AnyNet::$variant(n) => n.recurrent_matrix(index),)+
                }
            }
        }
    };
}

builtin_models! {
    /// A deep MLP (plain, residual, normalised).
    Mlp(MlpConfig),
    /// The scalar chain with a linear head.
    Chain(ChainConfig),
    /// Stacked recurrent layers (tanh, ReLU, LSTM, GRU) unrolled over the sequence.
    Rnn(RnnConfig),
    /// A 1-D conv net (plain or residual, normalised or not) with global average pooling.
    Cnn(CnnConfig),
}

/// The object-safe part of [`Architecture`], so that [`ModelSpec`] forwards each question to
/// its architecture with one match.
trait ArchitectureInfo {
    fn kind(&self) -> &'static str;
    fn validate(&self) -> Result<(), ModelError>;
    fn depth(&self) -> usize;
    fn layer_name(&self, index: usize) -> String;
    fn footprint(&self) -> Footprint;
    fn facts(&self) -> ModelFacts;
    fn describe(&self) -> String;
}

impl<A: Architecture> ArchitectureInfo for A {
    fn kind(&self) -> &'static str {
        A::KIND
    }
    fn validate(&self) -> Result<(), ModelError> {
        Architecture::validate(self)
    }
    fn depth(&self) -> usize {
        Architecture::depth(self)
    }
    fn layer_name(&self, index: usize) -> String {
        Architecture::layer_name(self, index)
    }
    fn footprint(&self) -> Footprint {
        Architecture::footprint(self)
    }
    fn facts(&self) -> ModelFacts {
        Architecture::facts(self)
    }
    fn describe(&self) -> String {
        Architecture::describe(self)
    }
}

impl ModelSpec {
    /// `model.kind` of this model.
    pub fn kind(&self) -> &'static str {
        self.info().kind()
    }

    /// Checks every field; the error names the config key.
    pub fn validate(&self) -> Result<(), ModelError> {
        self.info().validate()
    }

    /// Number of observed layers.
    pub fn depth(&self) -> usize {
        self.info().depth()
    }

    /// The name of layer `index` (1-based), as the built network's [`Network::layer_name`].
    pub fn layer_name(&self, index: usize) -> String {
        self.info().layer_name(index)
    }

    /// How much memory the model takes (see [`Architecture::footprint`]).
    pub fn footprint(&self) -> Footprint {
        self.info().footprint()
    }

    /// What the diagnosis and the theory may assume about the model.
    pub fn facts(&self) -> ModelFacts {
        self.info().facts()
    }

    /// One line describing the model.
    pub fn describe(&self) -> String {
        self.info().describe()
    }
}
