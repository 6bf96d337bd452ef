//! Deep networks built to study gradient flow.
//!
//! A deep stack of layers multiplies: the forward signal by each layer's weights, the backward
//! signal by the same weights. This crate holds the networks that make this visible:
//!
//! - [`ScalarChain`]: the lecture's chain `h_k = w·h_{k−1} + b`, with its closed forms
//!   ([`chain_activation_closed_form`], [`chain_grad_closed_form`]);
//! - [`MlpConfig`] → [`DeepNet`]`<`[`DenseBlock`]`>`: deep MLPs of any depth and width, any
//!   [`Activation`] and [`InitKind`], optional residual connections (with a learnable branch scale)
//!   and normalisation ([`NormKind`]: batch, layer, RMS; [`NormPosition`]: pre or post);
//! - [`RnnConfig`] → [`Rnn`]: stacked recurrent nets (tanh, ReLU, LSTM, GRU cells) unrolled in
//!   our code, every time step's hidden state observed;
//! - [`CnnConfig`] → [`Cnn`]: 1-D conv nets (plain or pre-activation residual, batch or layer
//!   norm per channel) with global average pooling, observed per channel;
//! - the [`Block`] trait: a new architecture is one impl, stacked by [`DeepNet`];
//! - the [`Architecture`] trait and [`ModelSpec`]: the built-in models a config can name, each
//!   one model file and one registration line (the steps are in [`arch`]); [`ModelFacts`]: what
//!   the diagnosis and the theory read about a model instead of its type;
//! - the [`Network`] trait and [`LayerObserver`]: the seam where diagnostics watch every layer.
//!
//! Models are built eagerly, weights drawn in a fixed order, so the same seed gives the same
//! weights bit for bit; [`ModelSpec::init_seeded`] (or [`with_seed`] around any other draw)
//! keeps that true when several threads draw at once.
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use gradscope_model::{Activation, ForwardCtx, InitKind, MlpConfig, Network, WeightInit};
//!
//! let device = gradscope_model::BackendKind::Ndarray.device();
//! let config = MlpConfig::new(8, 2, 16, 10, Activation::Tanh, WeightInit::new(InitKind::XavierNormal, 1.0));
//! let net = gradscope_model::with_seed(&device, 0, |d| config.init(d));
//! let y = net.forward(Tensor::<2>::ones([4, 8], &device), &ForwardCtx::EVAL);
//! assert_eq!(y.dims(), [4, 2]);
//! assert_eq!(net.num_layers(), 10);
//! ```

pub mod activation;
pub mod arch;
pub mod backend;
pub mod block;
pub mod chain;
pub mod cnn;
pub mod context;
pub mod error;
pub mod facts;
pub mod init;
pub mod loss;
pub mod mlp;
pub mod net;
pub mod norm;
pub mod observer;
pub mod params;
pub mod rnn;
pub mod seed;

pub use activation::Activation;
pub use arch::{AnyNet, Architecture, DataShape, Footprint, ModelSpec};
pub use backend::BackendKind;
pub use block::{Block, DenseBlock, DenseBlockConfig, DenseLayout, linear};
pub use chain::{
    ChainConfig, ScalarChain, chain_activation_closed_form, chain_fixed_point,
    chain_grad_closed_form, chain_reference,
};
pub use cnn::{Cnn, CnnConfig, ConvBlock};
pub use context::ForwardCtx;
pub use error::ModelError;
pub use facts::{Family, InitFacts, ModelFacts, ResidualFacts};
pub use init::{InitKind, WeightInit, draw_bias};
pub use mlp::{MAX_DEPTH, MlpConfig};
pub use net::{DeepNet, Network, linear_params};
pub use norm::{Norm, NormKind, NormPosition};
pub use observer::{CollectOutputs, LayerInfo, LayerObserver, NoObserver};
pub use params::{
    CollectedParam, ParamCollector, collect_params, leaf_params, materialize_params, read_grads,
};
pub use rnn::{Cell, RecurrentInit, RecurrentLayer, Rnn, RnnConfig};
pub use seed::with_seed;
