//! Gradient-flow diagnostics through burn's autodiff.
//!
//! The big picture: a network built with `gradscope-model` hands every layer's output to an
//! observer. Here the observer is a [`Tap`], which passes each output through a backward hook (a
//! burn backend extension whose backward step reduces ∂L/∂h as it goes by: [`hook`]) or, as the
//! reference and on backends without the hook, adds a zero-valued leaf whose gradient autodiff
//! reports. After `backward()`, a [`Recorder`] reduces everything else per layer (parameter-gradient
//! and weight norms, spectral norms by warm-started power iteration, activation statistics, update
//! ratios after the optimiser step) — on the CPU backends in one pass over each tensor's own
//! buffer, elsewhere as device operations read back in one transfer — into a [`StepMeasure`].
//!
//! From there:
//! - [`StepMeasure::to_record`] turns a step into the versioned JSON Lines record of
//!   `gradscope-record` (non-finite values kept visible by [`Real`]);
//! - [`locate`] finds the first non-finite value and the layer that produced it;
//! - [`diagnose`] says vanishing, exploding or healthy, with evidence and remedies;
//! - [`TheoryCase`] predicts the per-layer factor of the backward signal from mean-field theory.
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use gradscope_diagnostics::{probe, RecordOptions};
//! use gradscope_model::{Activation, InitKind, MlpConfig, WeightInit};
//!
//! let device = gradscope_model::BackendKind::Ndarray.autodiff_device();
//! let config = MlpConfig::new(16, 1, 16, 6, Activation::Relu, WeightInit::new(InitKind::HeNormal, 1.0));
//! let net = gradscope_model::with_seed(&device, 0, |d| config.init(d));
//! let x = Tensor::<2>::ones([8, 16], &device);
//! let m = probe(&net, x, |y| y.sum(), RecordOptions::default());
//! assert_eq!(m.layers.len(), 6);
//! assert!(m.layers.iter().all(|l| l.act_grad_norm.unwrap() > 0.0));
//! ```

pub mod clip;
pub mod diagnosis;
pub mod hook;
mod host;
pub mod measure;
pub mod nonfinite;
pub mod probe;
pub mod reduce;
pub mod spectral;
pub mod step;
pub mod tap;
pub mod theory;

pub use clip::{clip_by_global_norm, clip_by_value, grads_norm_sq, map_grads};
pub use diagnosis::{
    Diagnosis, DiagnosisContext, DiagnosisKind, DiagnosisThresholds, Evidence, Phase, diagnose,
    gradient_ratio, record_ratio, signal_path,
};
pub use gradscope_record::{
    EvalRecord, LayerSeries, Real, RecordError, RunKind, SCHEMA_VERSION, StepRecord, read_jsonl,
    write_jsonl, write_long_csv,
};
pub use measure::{
    LayerMeasure, PendingStep, RecordOptions, Recorder, StepMeasure, clip_norm_sq,
    global_grad_norm_sq,
};
pub use nonfinite::{NonFinite, NonFiniteKind, locate};
pub use probe::probe;
pub use reduce::{Reducer, Sum};
pub use spectral::SpectralState;
pub use step::ObservedStep;
pub use tap::{Tap, TapMode};
pub use theory::{BATCHNORM_RELU_FACTOR, RecurrenceTheory, TheoryCase};
