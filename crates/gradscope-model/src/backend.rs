//! Choosing the compute backend at run time.
//!
//! burn 0.22 picks the backend from the [`Device`] a tensor lives on. The CPU backends `ndarray`
//! and `flex` are always built in; a GPU backend comes with a cargo feature of this crate
//! (`wgpu`, `cuda`) and then shows up here.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

/// A compute backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// burn-ndarray: the `ndarray` crate with `matrixmultiply` (CPU).
    Ndarray,
    /// burn-flex: pure-Rust CPU backend with `gemm`, SIMD and rayon.
    Flex,
    /// WebGPU / Vulkan / Metal through wgpu (feature `wgpu`).
    #[cfg(feature = "wgpu")]
    Wgpu,
    /// CUDA (feature `cuda`).
    #[cfg(feature = "cuda")]
    Cuda,
}

impl BackendKind {
    /// The default backend: flex, measured faster than ndarray in every cell of the
    /// `gradscope bench` grid, with and without the diagnostics (docs/performance.md).
    pub const DEFAULT: BackendKind = BackendKind::Flex;

    /// Every backend compiled into this build.
    pub fn available() -> Vec<BackendKind> {
        vec![
            BackendKind::Ndarray,
            BackendKind::Flex,
            #[cfg(feature = "wgpu")]
            BackendKind::Wgpu,
            #[cfg(feature = "cuda")]
            BackendKind::Cuda,
        ]
    }

    /// The name used on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Ndarray => "ndarray",
            BackendKind::Flex => "flex",
            #[cfg(feature = "wgpu")]
            BackendKind::Wgpu => "wgpu",
            #[cfg(feature = "cuda")]
            BackendKind::Cuda => "cuda",
        }
    }

    /// The plain (inference) device of this backend.
    // burn 0.22 marks burn-ndarray deprecated in favour of burn-flex; ndarray stays selectable.
    #[allow(deprecated)]
    pub fn device(self) -> Device {
        match self {
            BackendKind::Ndarray => Device::ndarray(),
            BackendKind::Flex => Device::flex(),
            #[cfg(feature = "wgpu")]
            BackendKind::Wgpu => Device::wgpu(burn::tensor::DeviceKind::default()),
            #[cfg(feature = "cuda")]
            BackendKind::Cuda => Device::cuda(0usize),
        }
    }

    /// The autodiff device of this backend (what training and diagnostics run on).
    pub fn autodiff_device(self) -> Device {
        self.device().autodiff()
    }

    /// The backend a device belongs to (with or without autodiff), if it is one of this build's.
    pub fn of(device: &Device) -> Option<BackendKind> {
        // Device equality compares the hardware and ignores the autodiff setting.
        BackendKind::available()
            .into_iter()
            .find(|kind| kind.device() == *device)
    }
}

impl Default for BackendKind {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BackendKind::available()
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = BackendKind::available().iter().map(|b| b.name()).collect();
                format!(
                    "expected one of {} (GPU backends need the `wgpu` or `cuda` cargo feature)",
                    names.join(", ")
                )
            })
    }
}
