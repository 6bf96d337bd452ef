//! Recurrent nets unrolled in our own code, so that every time step's hidden state is observed.
//!
//! A sequence of T steps through one recurrent layer is a T-layer network whose layers share one
//! weight matrix: the backward signal through time is multiplied by the same Jacobian at every
//! step back, `∂h_t/∂h_{t−1} = diag(φ'(·)) W_hhᵀ`, so with a tanh cell and ‖W_hh‖₂ < 1 it must
//! vanish (Pascanu et al. 2013), and gating (LSTM, GRU) is what lets it pass.
//!
//! Cells: `linear` (no activation: the backward signal is multiplied by exactly W_hhᵀ at each
//! step back, the closed form the theory checks against), `tanh` and `relu` (Elman), `lstm` (gates i, f, g, o; forget-gate bias from
//! `forget_bias`, Jozefowicz et al. 2015) and `gru` (gates r, z, n, the PyTorch convention
//! h = (1 − z)·n + z·h). Recurrent weights of each gate are drawn as ρ·Q with Q orthogonal, ρ·I
//! (with ReLU the IRNN of Le et al. 2015) or N(0, ρ²/width); input weights by the MLP's
//! initialisers. A row of the data is the sequence, `step_features` values per step in order
//! (`[x_1, x_2, …]`); the prediction is read from the top layer's last hidden state.
//!
//! Observation: each layer hands its hidden state at every step to
//! [`crate::LayerObserver::observe_step`] (so ‖∂L/∂h_t‖ is recorded for every t and layer), then
//! its last hidden state to [`crate::LayerObserver::observe`] as the layer's output.

use std::fmt;
use std::str::FromStr;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::nn::Linear;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Distribution, Tensor};

use crate::block::linear;
use crate::error::{check_depth, check_scale, check_step_features};
use crate::facts::{Family, InitFacts, ModelFacts};
use crate::init::{InitKind, WeightInit};
use crate::net::linear_params;
use crate::observer::{LayerInfo, LayerObserver};
use crate::{Activation, Architecture, DataShape, Footprint, ForwardCtx, ModelError, Network};

/// The recurrent cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cell {
    /// `h_t = x_t W + h_{t−1} U + b`: a linear recurrence, whose backward signal is
    /// `∂L/∂h_{t−1} = ∂L/∂h_t Uᵀ` exactly (with U = ρQ, Q orthogonal, scaled by ρ per step).
    Linear,
    /// `h_t = tanh(x_t W + h_{t−1} U + b)`.
    Tanh,
    /// `h_t = relu(x_t W + h_{t−1} U + b)`.
    Relu,
    /// Long short-term memory.
    Lstm,
    /// Gated recurrent unit.
    Gru,
}

impl Cell {
    /// Every cell.
    pub const ALL: [Cell; 5] = [Cell::Linear, Cell::Tanh, Cell::Relu, Cell::Lstm, Cell::Gru];

    /// The config word.
    pub fn name(self) -> &'static str {
        match self {
            Cell::Linear => "linear",
            Cell::Tanh => "tanh",
            Cell::Relu => "relu",
            Cell::Lstm => "lstm",
            Cell::Gru => "gru",
        }
    }

    /// Blocks of `width` columns in the input and recurrent matrices (one per gate).
    pub fn gates(self) -> usize {
        match self {
            Cell::Linear | Cell::Tanh | Cell::Relu => 1,
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }

    /// The activation the hidden state ends in (what its saturation and dead-unit statistics
    /// mean): tanh for the gated cells too (h = o·tanh(c) for the LSTM; the GRU's h mixes tanh
    /// candidates).
    pub fn output_activation(self) -> Activation {
        match self {
            Cell::Linear => Activation::Identity,
            Cell::Relu => Activation::Relu,
            _ => Activation::Tanh,
        }
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Cell {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cell::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| "expected one of linear, tanh, relu, lstm, gru".to_string())
    }
}

/// How each gate's recurrent matrix is drawn (times ρ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecurrentInit {
    /// ρ·Q, Q orthogonal: every singular value is ρ.
    Orthogonal,
    /// ρ·I.
    Identity,
    /// N(0, ρ²/width): spectral radius ≈ ρ for large widths (circular law).
    Normal,
}

impl RecurrentInit {
    /// Every recurrent initialisation.
    pub const ALL: [RecurrentInit; 3] = [
        RecurrentInit::Orthogonal,
        RecurrentInit::Identity,
        RecurrentInit::Normal,
    ];

    /// The config word.
    pub fn name(self) -> &'static str {
        match self {
            RecurrentInit::Orthogonal => "orthogonal",
            RecurrentInit::Identity => "identity",
            RecurrentInit::Normal => "normal",
        }
    }

    /// Draws a `[width, width]` block scaled by `rho`.
    fn draw(self, width: usize, rho: f64, device: &Device) -> Tensor<2> {
        match self {
            RecurrentInit::Orthogonal => WeightInit::new(InitKind::Orthogonal, 1.0)
                .draw(width, width, device)
                .mul_scalar(rho)
                .detach(),
            RecurrentInit::Identity => Tensor::<2>::eye(width, device).mul_scalar(rho),
            RecurrentInit::Normal => Tensor::random(
                [width, width],
                Distribution::Normal(0.0, rho / (width as f64).sqrt()),
                device,
            ),
        }
    }
}

impl fmt::Display for RecurrentInit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RecurrentInit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RecurrentInit::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| "expected one of orthogonal, identity, normal".to_string())
    }
}

/// Configuration of a stacked recurrent net.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RnnConfig {
    /// Values per row: `steps × step_features`.
    pub input_dim: usize,
    /// Output dimension.
    pub output_dim: usize,
    /// Values per time step (the sequence has `input_dim / step_features` steps).
    pub step_features: usize,
    /// Hidden units per layer.
    pub width: usize,
    /// Stacked recurrent layers.
    pub depth: usize,
    /// The cell.
    pub cell: Cell,
    /// Input-to-hidden initialisation.
    pub init: WeightInit,
    /// Hidden-to-hidden initialisation.
    pub recurrent_init: RecurrentInit,
    /// Scale ρ of the recurrent matrices.
    pub rho: f64,
    /// Initial bias of the LSTM's forget gate.
    pub forget_bias: f64,
}

impl RnnConfig {
    /// Time steps of the sequence.
    pub fn steps(&self) -> usize {
        self.input_dim / self.step_features.max(1)
    }

    /// Builds the network, drawing every weight now: layers in order (input weights, then
    /// recurrent ones, gate by gate), then the head.
    pub fn init(&self, device: &Device) -> Rnn {
        let w = self.width;
        let gates = self.cell.gates();
        let layers = (0..self.depth)
            .map(|l| {
                let d_in = if l == 0 { self.step_features } else { w };
                let input = Tensor::cat(
                    (0..gates)
                        .map(|_| self.init.draw(d_in, w, device))
                        .collect(),
                    1,
                );
                let recurrent = Tensor::cat(
                    (0..gates)
                        .map(|_| self.recurrent_init.draw(w, self.rho, device))
                        .collect(),
                    1,
                );
                let mut bias = vec![0f32; gates * w];
                if self.cell == Cell::Lstm {
                    // Gates i, f, g, o: the second block is the forget gate.
                    bias[w..2 * w].fill(self.forget_bias as f32);
                }
                RecurrentLayer {
                    input: Param::from_tensor(input),
                    recurrent: Param::from_tensor(recurrent),
                    bias: Param::from_tensor(Tensor::<1>::from_floats(bias.as_slice(), device)),
                    cell: self.cell,
                }
            })
            .collect();
        let head = linear(w, self.output_dim, &self.init, Some(0.0), device);
        Rnn {
            layers,
            head,
            step_features: self.step_features,
        }
    }
}

/// One recurrent layer: input weights `[d_in, gates·width]`, recurrent weights
/// `[width, gates·width]`, bias `[gates·width]`.
#[derive(Module, Debug)]
pub struct RecurrentLayer {
    /// Input-to-hidden weights, gates side by side.
    pub input: Param<Tensor<2>>,
    /// Hidden-to-hidden weights, gates side by side.
    pub recurrent: Param<Tensor<2>>,
    /// Biases, gates side by side.
    pub bias: Param<Tensor<1>>,
    /// The cell.
    #[module(skip)]
    pub cell: Cell,
}

impl RecurrentLayer {
    fn width(&self) -> usize {
        self.recurrent.val().dims()[0]
    }

    /// The `[width, width]` matrix that carries the state from one step to the next: the whole
    /// recurrent matrix of the linear and Elman cells, the candidate's block (`g` of the LSTM,
    /// `n` of the GRU) of the gated ones, where the gates also scale the signal.
    pub fn state_matrix(&self) -> Tensor<2> {
        let u = self.recurrent.val();
        let w = self.width();
        match self.cell {
            Cell::Linear | Cell::Tanh | Cell::Relu => u,
            Cell::Lstm | Cell::Gru => u.slice([0..w, 2 * w..3 * w]),
        }
    }

    /// One step: the new hidden state (and the LSTM's cell state) from the input's projection
    /// `xw` (`x_t W + b`), the previous hidden state and cell state.
    fn step(
        &self,
        xw: Tensor<2>,
        h: Tensor<2>,
        c: Option<Tensor<2>>,
    ) -> (Tensor<2>, Option<Tensor<2>>) {
        let hu = h.clone().matmul(self.recurrent.val());
        match self.cell {
            Cell::Linear => (xw.add(hu), None),
            Cell::Tanh => (xw.add(hu).tanh(), None),
            Cell::Relu => (xw.add(hu).clamp_min(0.0), None),
            Cell::Lstm => {
                let [i, f, cand, o] = gates(xw.add(hu));
                let (i, f, cand, o) = (sigmoid(i), sigmoid(f), cand.tanh(), sigmoid(o));
                let c = match c {
                    Some(c) => f.mul(c).add(i.mul(cand)),
                    None => i.mul(cand),
                };
                (o.mul(c.clone().tanh()), Some(c))
            }
            Cell::Gru => {
                let [xr, xz, xn] = gates(xw);
                let [ur, uz, un] = gates(hu);
                let r = sigmoid(xr.add(ur));
                let z = sigmoid(xz.add(uz));
                let n = xn.add(r.mul(un)).tanh();
                let keep = z.clone().mul(h);
                (z.neg().add_scalar(1.0).mul(n).add(keep), None)
            }
        }
    }
}

/// The `N` gate blocks of `[batch, N·width]`, in order.
fn gates<const N: usize>(t: Tensor<2>) -> [Tensor<2>; N] {
    t.chunk(N, 1)
        .try_into()
        .unwrap_or_else(|_| unreachable!("chunk of an N·width tensor gives N blocks"))
}

/// A stacked recurrent net with a linear head on the last hidden state.
#[derive(Module, Debug)]
pub struct Rnn {
    /// The recurrent layers; layer `i` is observed layer `i + 1`.
    pub layers: Vec<RecurrentLayer>,
    /// The output head.
    pub head: Linear,
    /// Values per time step.
    #[module(skip)]
    pub step_features: usize,
}

impl Network for Rnn {
    fn num_layers(&self) -> usize {
        self.layers.len()
    }

    fn layer_name(&self, index: usize) -> String {
        format!("layers.{}", index - 1)
    }

    fn forward_observed(
        &self,
        x: Tensor<2>,
        _ctx: &ForwardCtx,
        observer: &mut dyn LayerObserver,
    ) -> Tensor<2> {
        let [batch, features] = x.dims();
        let f = self.step_features.max(1);
        let steps = features / f;
        let mut inputs: Vec<Tensor<2>> = (0..steps)
            .map(|t| x.clone().slice([0..batch, t * f..(t + 1) * f]))
            .collect();
        for (i, layer) in self.layers.iter().enumerate() {
            let name = self.layer_name(i + 1);
            let info = LayerInfo {
                index: i + 1,
                name: &name,
                activation: Some(layer.cell.output_activation()),
            };
            let width = layer.width();
            // The input projection stays per step: one product over all steps would be fewer
            // dispatches forward, but the backward of each step's slice of it writes a
            // gradient the size of the whole projection (measured 20 % slower on the GRU).
            let mut h = Tensor::<2>::zeros([batch, width], &x.device());
            let mut c = None;
            let mut outputs = Vec::with_capacity(steps);
            for (t, x_t) in inputs.into_iter().enumerate() {
                let xw = x_t
                    .matmul(layer.input.val())
                    .add(layer.bias.val().unsqueeze_dim(0));
                let (next, cell) = layer.step(xw, h, c);
                h = observer.observe_step(info, t + 1, next);
                c = cell;
                outputs.push(h.clone());
            }
            let last = observer.observe(info, h);
            if let Some(end) = outputs.last_mut() {
                *end = last;
            }
            inputs = outputs;
        }
        let top = inputs.pop().unwrap_or_else(|| {
            Tensor::<2>::zeros([batch, self.head.weight.dims()[0]], &x.device())
        });
        self.head.forward(top)
    }

    fn visit_layer<V: ModuleVisitor>(&self, index: usize, visitor: &mut V) {
        if let Some(layer) = self.layers.get(index - 1) {
            layer.visit(visitor);
        }
    }

    fn head_params(&self) -> Vec<ParamId> {
        linear_params(&self.head)
    }

    fn recurrent_matrix(&self, index: usize) -> Option<Tensor<2>> {
        self.layers
            .get(index.checked_sub(1)?)
            .map(RecurrentLayer::state_matrix)
    }
}

impl Architecture for RnnConfig {
    type Net = Rnn;
    const KIND: &'static str = "rnn";

    fn init(&self, device: &Device) -> Self::Net {
        RnnConfig::init(self, device)
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
        if self.width == 0 {
            return Err(ModelError::invalid(
                "model.width",
                "0",
                "must be at least 1",
            ));
        }
        check_depth(self.depth)?;
        check_step_features(self.step_features, self.input_dim, "time steps")?;
        check_scale("model.rho", self.rho)?;
        if !self.forget_bias.is_finite() {
            return Err(ModelError::invalid(
                "model.forget_bias",
                self.forget_bias.to_string(),
                "must be finite",
            ));
        }
        check_scale("model.sigma_w", self.init.sigma_w)
    }

    fn depth(&self) -> usize {
        self.depth
    }

    fn layer_name(&self, index: usize) -> String {
        format!("layers.{}", index.saturating_sub(1))
    }

    fn footprint(&self) -> Footprint {
        let (w, g, f) = (
            self.width as f64,
            self.cell.gates() as f64,
            self.step_features as f64,
        );
        let steps = self.steps() as f64;
        let d = self.depth as f64;
        Footprint {
            parameters: g * w * (f + w + 1.0)
                + (d - 1.0) * g * w * (2.0 * w + 1.0)
                + w * self.output_dim as f64
                + self.output_dim as f64,
            // Per step and layer: the gates' pre-activations and outputs, the cell and hidden
            // states, the observation taps.
            activations_per_sample: d * steps * (3.0 * g + 4.0) * w + self.output_dim as f64,
            widest_layer: (g * w).max(self.input_dim as f64),
        }
    }

    fn facts(&self) -> ModelFacts {
        ModelFacts {
            family: Family::Recurrent {
                cell: self.cell,
                steps: self.steps(),
                rho: self.rho,
                recurrent_init: self.recurrent_init,
            },
            width: Some(self.width),
            activation: Some(self.cell.output_activation()),
            init: Some(InitFacts {
                init: self.init,
                sigma_w2_first: self.init.sigma_w2_effective(self.step_features, self.width),
                sigma_w2_hidden: self.init.sigma_w2_effective(self.width, self.width),
            }),
            bias_std: Some(0.0),
            ..ModelFacts::stack(self.depth)
        }
    }

    fn describe(&self) -> String {
        format!(
            "rnn: {} steps x {} -> {}x{} {} -> {}, input {} (sigma_w {}), recurrent {} x rho {}{}",
            self.steps(),
            self.step_features,
            self.depth,
            self.width,
            self.cell,
            self.output_dim,
            self.init.kind,
            self.init.sigma_w,
            self.recurrent_init,
            self.rho,
            if self.cell == Cell::Lstm {
                format!(", forget bias {}", self.forget_bias)
            } else {
                String::new()
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CollectOutputs, with_seed};

    fn config(cell: Cell) -> RnnConfig {
        RnnConfig {
            input_dim: 12,
            output_dim: 3,
            step_features: 2,
            width: 8,
            depth: 2,
            cell,
            init: WeightInit::new(InitKind::XavierNormal, 1.0),
            recurrent_init: RecurrentInit::Orthogonal,
            rho: 1.0,
            forget_bias: 1.0,
        }
    }

    /// Every cell against a step-by-step host computation of its equations in f64, on the
    /// weights it drew: the unrolled forward is the cell it claims to be.
    #[test]
    fn cells_match_their_equations() {
        let device = crate::BackendKind::Ndarray.device();
        for cell in Cell::ALL {
            let c = config(cell);
            let (net, x) = with_seed(&device, 3, |d| {
                (
                    c.init(d),
                    Tensor::<2>::random([4, 12], Distribution::Normal(0.0, 1.0), d),
                )
            });
            let host = |t: Tensor<2>| -> Vec<Vec<f64>> {
                let [r, k] = t.dims();
                let v: Vec<f32> = t.into_data().convert::<f32>().try_to_vec().unwrap();
                (0..r)
                    .map(|i| (0..k).map(|j| v[i * k + j] as f64).collect())
                    .collect()
            };
            let vec1 = |t: Tensor<1>| -> Vec<f64> {
                t.into_data()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .unwrap()
                    .into_iter()
                    .map(f64::from)
                    .collect()
            };
            let mut seq: Vec<Vec<Vec<f64>>> = {
                let xs = host(x.clone());
                (0..6)
                    .map(|t| {
                        xs.iter()
                            .map(|row| row[2 * t..2 * t + 2].to_vec())
                            .collect()
                    })
                    .collect()
            };
            let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
            for layer in &net.layers {
                let wi = host(layer.input.val());
                let wh = host(layer.recurrent.val());
                let b = vec1(layer.bias.val());
                let w = 8;
                let g = cell.gates();
                let mut h = vec![vec![0.0; w]; 4];
                let mut cst = vec![vec![0.0; w]; 4];
                let mut out = Vec::new();
                for x_t in &seq {
                    let mut next = vec![vec![0.0; w]; 4];
                    for n in 0..4 {
                        let pre = |k: usize, with_h: bool| -> f64 {
                            let mut s = b[k];
                            for (i, xv) in x_t[n].iter().enumerate() {
                                s += xv * wi[i][k];
                            }
                            if with_h {
                                for (i, hv) in h[n].iter().enumerate() {
                                    s += hv * wh[i][k];
                                }
                            }
                            s
                        };
                        let hh = |k: usize| -> f64 { (0..w).map(|i| h[n][i] * wh[i][k]).sum() };
                        for j in 0..w {
                            next[n][j] = match cell {
                                Cell::Linear => pre(j, true),
                                Cell::Tanh => pre(j, true).tanh(),
                                Cell::Relu => pre(j, true).max(0.0),
                                Cell::Lstm => {
                                    let (i, f, cc, o) = (
                                        sig(pre(j, true)),
                                        sig(pre(w + j, true)),
                                        pre(2 * w + j, true).tanh(),
                                        sig(pre(3 * w + j, true)),
                                    );
                                    cst[n][j] = f * cst[n][j] + i * cc;
                                    o * cst[n][j].tanh()
                                }
                                Cell::Gru => {
                                    let r = sig(pre(j, true));
                                    let z = sig(pre(w + j, true));
                                    let nn = (pre(2 * w + j, false) + r * hh(2 * w + j)).tanh();
                                    (1.0 - z) * nn + z * h[n][j]
                                }
                            };
                        }
                        let _ = g;
                    }
                    h = next;
                    out.push(h.clone());
                }
                seq = out;
            }
            // Compare the top layer's last hidden state (observed as layer 2's output).
            let mut seen = CollectOutputs::default();
            let _ = net.forward_observed(x, &ForwardCtx::EVAL, &mut seen);
            let got = host(seen.outputs[1].clone());
            let want = seq.last().unwrap();
            for n in 0..4 {
                for j in 0..8 {
                    assert!(
                        (got[n][j] - want[n][j]).abs() < 1e-5,
                        "{cell}: [{n}][{j}] {} vs {}",
                        got[n][j],
                        want[n][j]
                    );
                }
            }
        }
    }

    /// Every time step of every layer is observed, in order, and the layer output last.
    #[test]
    fn every_step_is_observed() {
        struct Count(Vec<(usize, usize)>);
        impl LayerObserver for Count {
            fn observe(&mut self, info: LayerInfo<'_>, h: Tensor<2>) -> Tensor<2> {
                self.0.push((info.index, 0));
                h
            }
            fn observe_step(&mut self, info: LayerInfo<'_>, t: usize, h: Tensor<2>) -> Tensor<2> {
                self.0.push((info.index, t));
                h
            }
        }
        let device = crate::BackendKind::Ndarray.device();
        let net = with_seed(&device, 0, |d| config(Cell::Gru).init(d));
        let mut count = Count(Vec::new());
        let y = net.forward_observed(
            Tensor::<2>::ones([2, 12], &device),
            &ForwardCtx::EVAL,
            &mut count,
        );
        assert_eq!(y.dims(), [2, 3]);
        let want: Vec<(usize, usize)> = (1..=2)
            .flat_map(|l| (1..=6).map(move |t| (l, t)).chain(std::iter::once((l, 0))))
            .collect();
        assert_eq!(count.0, want);
    }

    #[test]
    fn recurrent_inits_have_their_scale() {
        let device = crate::BackendKind::Ndarray.device();
        for init in RecurrentInit::ALL {
            let m = with_seed(&device, 1, |d| init.draw(64, 0.5, d));
            let v: Vec<f32> = m
                .clone()
                .matmul(m.transpose())
                .into_data()
                .try_to_vec()
                .unwrap();
            // Orthogonal and identity: ρ²·I exactly; normal: ρ² on the diagonal on average.
            let diag: f64 = (0..64).map(|i| v[i * 64 + i] as f64).sum::<f64>() / 64.0;
            assert!((diag - 0.25).abs() < 0.03, "{init}: {diag}");
            if init != RecurrentInit::Normal {
                let off = (0..64 * 64)
                    .filter(|k| k / 64 != k % 64)
                    .map(|k| (v[k] as f64).abs())
                    .fold(0.0, f64::max);
                assert!(off < 1e-5, "{init}: {off}");
            }
        }
    }
}
