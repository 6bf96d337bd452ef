//! A real backward hook: an identity operation whose backward pass hands the incoming gradient
//! to the recorder, which reduces it on the spot.
//!
//! burn 0.22 keeps no gradient for intermediate tensors and has no hooks of its own
//! (tracel-ai/burn#1802), but it lets a crate add an operation through a backend extension
//! (`#[backend_extension]`) with a handwritten `Autodiff<B>` implementation that registers its
//! own backward step. [`GradHook::grad_hook`] is that operation: forward, it returns its input
//! untouched (no copy, no new buffer); backward, it receives ∂L/∂h (the sum over every consumer of
//! h, as any node does), writes ‖∂L/∂h‖² into its [`HookSlot`], and passes the same gradient on to
//! its parent unchanged. Against the zero-leaf tap ([`crate::TapMode::ZeroLeaf`], the reference
//! it replaces) it saves an element-wise addition and an autodiff leaf per layer, the gradient
//! that burn stored for every leaf until the step ended, and a second pass over it afterwards.
//!
//! The squared norm is reduced by [`crate::host`], in f64, in the same order as the reference
//! tap's gradient is reduced, so both record the same numbers to the last bit (a test says so).
//! The hook exists for the CPU backends, `flex` and `ndarray`; on any other backend the recorder
//! keeps the zero-leaf tap.

// burn-ndarray is deprecated in favour of flex, but it is still a backend users choose.
#![allow(deprecated)]

use std::sync::{Arc, Mutex};

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, NdArray, backend_extension};

use crate::host;

/// Where the hooks of one forward pass write their squared norms: one slot per tapped tensor,
/// filled during `backward()` (a slot the loss did not reach stays empty).
#[derive(Debug, Default)]
pub struct HookSink {
    values: Mutex<Vec<Option<f64>>>,
}

impl HookSink {
    /// A sink with no slot filled yet.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn put(&self, slot: usize, value: f64) {
        let mut v = self.values.lock().unwrap_or_else(|e| e.into_inner());
        if v.len() <= slot {
            v.resize(slot + 1, None);
        }
        v[slot] = Some(value);
    }

    /// ‖∂L/∂h‖² received by slot `slot`, if its hook ran.
    pub fn get(&self, slot: usize) -> Option<f64> {
        let v = self.values.lock().unwrap_or_else(|e| e.into_inner());
        v.get(slot).copied().flatten()
    }
}

/// The slot a hook writes to: an ordinary (non-tensor) argument of the extension operation,
/// carried into its backward step.
#[derive(Debug, Clone)]
pub struct HookSlot {
    /// The sink of the forward pass.
    pub sink: Arc<HookSink>,
    /// The slot in it.
    pub slot: usize,
}

/// Reads a backend's float tensor in host memory (the CPU backends).
pub trait HostRead: Backend {
    /// ‖t‖² in f64 (NaN where the tensor cannot be read on the host, so that nothing passes
    /// for a measurement that was not made).
    fn sum_sq_host(t: &FloatTensor<Self>) -> f64;
}

impl HostRead for Flex {
    fn sum_sq_host(t: &FloatTensor<Self>) -> f64 {
        host::flex_f32(t, host::sum_sq).unwrap_or(f64::NAN)
    }
}

impl HostRead for NdArray {
    fn sum_sq_host(t: &FloatTensor<Self>) -> f64 {
        host::ndarray_f32(t, host::sum_sq).unwrap_or(f64::NAN)
    }
}

/// The backward hook as a burn backend extension.
#[backend_extension(NdArray, Flex, Autodiff)]
pub trait GradHook: Backend {
    /// The identity; under autodiff, its backward step writes ‖∂L/∂x‖² into `slot` and passes
    /// the gradient on unchanged.
    fn grad_hook(x: FloatTensor<Self>, slot: HookSlot) -> FloatTensor<Self> {
        let _ = slot;
        x
    }
}

impl GradHook for NdArray {}
impl GradHook for Flex {}

/// The backward step of [`GradHook::grad_hook`].
#[derive(Debug)]
struct HookBackward {
    slot: HookSlot,
}

impl<B: HostRead> Backward<B, 1> for HookBackward {
    type State = ();

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [parent] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        self.slot.sink.put(self.slot.slot, B::sum_sq_host(&grad));
        if let Some(parent) = parent {
            grads.register::<B>(parent.id, grad);
        }
    }
}

impl<B: GradHook + HostRead, C: CheckpointStrategy> GradHook for Autodiff<B, C> {
    fn grad_hook(x: FloatTensor<Self>, slot: HookSlot) -> FloatTensor<Self> {
        HookBackward { slot }
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateless(x.into_primitive())
    }
}

/// Hooks `h` (an autodiff tensor of a CPU backend) into slot `slot` of `sink`.
pub(crate) fn hook<const D: usize>(
    h: burn::tensor::Tensor<D>,
    sink: &Arc<HookSink>,
    slot: usize,
) -> burn::tensor::Tensor<D> {
    let out = <burn::backend::Dispatch as GradHook>::grad_hook(
        h.into_dispatch(),
        HookSlot {
            sink: Arc::clone(sink),
            slot,
        },
    );
    burn::tensor::Tensor::from_dispatch(out)
}
