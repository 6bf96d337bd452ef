//! The full commented config printed by `gradscope config --defaults`.

/// Every key with its default and a comment. A test checks that it parses to
/// [`crate::RawConfig::default`], so the two cannot disagree.
pub const DEFAULTS_TOML: &str = r#"# gradscope experiment config: every key, at its default.
# Keys under a table may also be set from the command line: --set model.depth=40

# name = "my-experiment"   # letters, digits, - _ . (not starting with .; it names folders)
                           # default: the config file's name, other characters turned into -
seed = 0                   # seed of the weight initialisation, 0..9223372036854775807 (TOML integers are i64)
device = "flex"            # compute backend: flex | ndarray (GPU: build with --features wgpu|cuda)

[model]
kind = "mlp"               # mlp | chain | rnn | cnn
depth = 20                 # hidden layers, 1..1000 (chain: its length N)
width = 128                # units per hidden layer (a size that cannot fit in memory is refused before the run)
activation = "tanh"        # identity | relu | leaky_relu | tanh | sigmoid | gelu | silu
init = "xavier_normal"     # xavier_normal | xavier_uniform | he_normal | he_uniform | lecun_normal | orthogonal | normal
sigma_w = 1.0              # init = "normal": std = sigma_w / sqrt(fan_in); otherwise a gain on the init's std
sigma_b = 0.0              # bias init std; 0 = zeros
bias = true
residual = false           # identity skip connections around each block
block_linears = 1          # linear layers per residual block: 1 or 2
# branch_scale = 0.0       # learnable residual branch scale alpha, initial value (0 = ReZero); absent = fixed 1
norm = "none"              # none | batch | layer | rms
norm_position = "pre"      # plain: pre = Linear->Norm->act, post = Linear->act->Norm
                           # residual: pre = norm inside the branch, post = norm after the add
w = 0.9                    # chain: initial weight w
b = 0.0                    # chain: initial bias b
tied = true                # chain: one (w, b) shared by all layers
# rnn (depth = stacked layers, width = hidden units, init = input weights; unset keys take these):
# cell = "tanh"            # linear | tanh | relu | lstm | gru
# recurrent_init = "orthogonal"  # orthogonal | identity | normal (each gate's matrix, times rho)
# rho = 1.0                # scale of the recurrent matrices
# forget_bias = 1.0        # lstm: initial forget-gate bias
# step_features = 2        # values per time step (default: the data set's; adding 2, others 1)
# cnn (depth = conv blocks; activation, init, sigma_w, bias, residual and norm as above, norm none | batch | layer):
# channels = 32            # feature maps per block
# kernel = 5               # odd kernel width, same padding
# step_features = 1        # input channels per position (default: the data set's)

[data]
name = "gaussian"          # gaussian | teacher | spirals | adding | digits | mnist1d | csv
seed = 0                   # seed of synthetic samples, splits and batch order (0..9223372036854775807)
# Keys by data set (unset keys take these defaults; keys a data set does not use are errors):
# gaussian: dim = 128, outputs = 1, n_train = 1024, n_test = 256   (pure noise: nothing to learn)
# teacher:  dim = 32, outputs = 1, teacher_depth = 2, teacher_width = 64, noise = 0.1, n_train = 2048, n_test = 512
# spirals:  arms = 3, dim = 2, noise = 0.2, n_train = 1500, n_test = 500
# adding:   length = 50, n_train = 8192, n_test = 2048   (value and marker per step; target: the sum of the two marked values)
# digits:   test_fraction = 0.2, split_seed = data.seed   (8x8 digits, 1,797 rows, bundled)
# mnist1d:  (no keys; the fixed 4,000 / 1,000 split, bundled)
# csv:      path = "file.csv" (relative to this file), target = "last" (a header name, "last", or
#           a 0-based index as an integer: target = 0), task = "auto" (auto | classification | regression),
#           classes = (max label + 1), test_fraction = 0.2, split_seed = data.seed, has_header = true

[optim]
name = "sgd"               # sgd | adam | adamw
lr = 0.01                  # peak learning rate
momentum = 0.0             # sgd momentum (PyTorch semantics: no dampening)
nesterov = false           # sgd: Nesterov momentum (needs momentum > 0)
weight_decay = 0.0         # sgd/adam: L2 penalty; adamw: decoupled decay
beta1 = 0.9                # adam/adamw
beta2 = 0.999              # adam/adamw
eps = 1e-8                 # adam/adamw (PyTorch's default; burn's is 1e-5)
# clip_norm = 1.0          # clip the global gradient norm (PyTorch's clip_grad_norm_); absent = off
# clip_norm_per_param = 1.0  # clip each parameter tensor's norm on its own (burn's GradientClipping::Norm)
# clip_value = 0.5         # clamp every gradient entry to [-c, c]
schedule = "constant"      # constant | warmup | cosine
warmup_steps = 0           # warmup, cosine: linear warm-up length
min_lr = 0.0               # cosine: final learning rate, at most lr

[train]
steps = 500                # optimiser steps
batch_size = 64
record_every = 1           # record diagnostics every k steps
eval_every = 50            # evaluate on train and test every k steps (and at the end)
baseline = true            # run the learning-rate-zero baseline beside the real run
head_only = false          # also run the head-only control (only the output head learns): did the layers below contribute?
loss = "auto"              # auto (cross-entropy for classes, MSE for regression) | mse | cross_entropy (classes only)
signal_window = 50         # learning signal: trailing window, in recorded steps
signal_z = 3.0             # learning signal: |z| beyond which the real run left the baseline's band
threads = 0                # compute threads, at most 512; 0 = all cores

[diagnosis]
vanishing_ratio = 0.01     # |dL/dh_1| / |dL/dh_L| below this: vanishing
exploding_ratio = 100.0    # above this: exploding
spike_factor = 10.0        # a loss above this multiple of its running median is a spike
spike_window = 20          # recorded losses in that running median
saturated_fraction = 0.5   # report layers with more saturated units than this
dead_fraction = 0.5        # report layers with more dead units than this
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RawConfig;

    #[test]
    fn template_is_the_defaults() {
        let parsed: RawConfig = toml::from_str(DEFAULTS_TOML).unwrap();
        assert_eq!(parsed, RawConfig::default());
    }
}
