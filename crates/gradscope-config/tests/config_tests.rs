//! Every bad value gets an error naming the key, the value, what is allowed, and the line.

use std::path::Path;

use gradscope_config::{ConfigError, DEFAULTS_TOML, Override, parse_config};
use gradscope_data::DataSpec;

fn err(text: &str) -> String {
    parse_config(text, "c.toml", Path::new("/tmp"), "c", &[])
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_values_name_key_value_rule_and_line() {
    let cases = [
        (
            "[model]\ndepth = 0\n",
            "c.toml:2: model.depth = 0: must be at least 1",
        ),
        (
            "[model]\ndepth = 1001\n",
            "c.toml:2: model.depth = 1001: must be at most 1000",
        ),
        (
            "\n[model]\nactivation = \"swish2\"\n",
            "c.toml:3: model.activation = \"swish2\": expected one of identity, relu, leaky_relu, tanh, sigmoid, gelu, silu",
        ),
        (
            "[model]\ninit = \"glorot\"\n",
            "c.toml:2: model.init = \"glorot\": expected one of xavier_normal, xavier_uniform, he_normal, he_uniform, lecun_normal, orthogonal, normal",
        ),
        (
            "[model]\nnorm = \"group\"\n",
            "c.toml:2: model.norm = \"group\": expected one of none, batch, layer, rms",
        ),
        (
            "[model]\nsigma_w = -1.0\n",
            "c.toml:2: model.sigma_w = -1: must be finite and ≥ 0",
        ),
        (
            "[model]\nkind = \"cnn\"\n",
            "c.toml:2: model.kind = \"cnn\": expected one of mlp, chain",
        ),
        (
            "[model]\nwidth = 0\n",
            "c.toml:2: model.width = 0: must be at least 1",
        ),
        (
            "[model]\nblock_linears = 3\n",
            "c.toml:2: model.block_linears = 3: must be 1 or 2",
        ),
        (
            "[optim]\nname = \"rmsprop\"\n",
            "c.toml:2: optim.name = \"rmsprop\": expected one of sgd, adam, adamw",
        ),
        (
            "[optim]\nlr = -0.1\n",
            "c.toml:2: optim.lr = -0.1: must be finite and ≥ 0",
        ),
        (
            "[optim]\nclip_norm = 0.0\n",
            "c.toml:2: optim.clip_norm = 0: must be finite and > 0",
        ),
        (
            "[optim]\nmomentum = 1.0\n",
            "c.toml:2: optim.momentum = 1: must be in [0, 1)",
        ),
        (
            "[train]\nsteps = 0\n",
            "c.toml:2: train.steps = 0: must be at least 1",
        ),
        (
            "[train]\nloss = \"hinge\"\n",
            "c.toml:2: train.loss = \"hinge\": expected one of auto, mse, cross_entropy",
        ),
        (
            "[data]\nname = \"imagenet\"\n",
            "c.toml:2: data.name = \"imagenet\": expected one of gaussian, teacher, spirals, digits, mnist1d, csv",
        ),
        (
            "device = \"tpu\"\n",
            "c.toml:1: device = \"tpu\": expected one of ndarray, flex",
        ),
    ];
    for (text, want) in cases {
        let got = err(text);
        assert!(
            got.starts_with(want),
            "config {text:?}\n got: {got}\nwant: {want}"
        );
    }
}

#[test]
fn keys_a_data_set_does_not_use_are_errors() {
    let got = err("[data]\nname = \"digits\"\narms = 3\n");
    assert!(
        got.starts_with("c.toml:3: data.arms = (set): not used by data.name = \"digits\""),
        "{got}"
    );
    let got = err("[data]\nname = \"csv\"\n");
    assert!(got.contains("data.path"), "{got}");
    let got = err("[data]\nname = \"digits\"\ntest_fraction = 1.5\n");
    assert!(
        got.starts_with("c.toml:3: data.test_fraction = 1.5"),
        "{got}"
    );
}

#[test]
fn unknown_keys_and_wrong_types_point_at_the_line() {
    let e = parse_config("[model]\ndepht = 3\n", "c.toml", Path::new("."), "c", &[]).unwrap_err();
    match &e {
        ConfigError::Syntax { line, message, .. } => {
            assert_eq!(*line, 2, "{e}");
            assert!(message.contains("depht"), "{e}");
        }
        other => panic!("{other}"),
    }
    let e = err("[model]\ndepth = \"deep\"\n");
    assert!(e.starts_with("c.toml:2:"), "{e}");
    let e = err("[model\n");
    assert!(e.starts_with("c.toml:1:"), "{e}");
}

#[test]
fn overrides_set_any_key_and_their_errors_name_the_argument() {
    let o = |s: &str| Override::parse(s).unwrap();
    let exp = parse_config(
        "",
        "c.toml",
        Path::new("."),
        "c",
        &[
            o("model.depth=40"),
            o("model.activation=relu"),
            o("optim.clip_norm=1.5"),
            o("data.name=digits"),
        ],
    )
    .unwrap();
    assert_eq!(exp.raw.model.depth, 40);
    assert_eq!(exp.raw.model.activation, "relu");
    assert_eq!(exp.optim.clip_norm, Some(1.5));
    assert!(matches!(exp.data, DataSpec::Digits { .. }));
    let e = parse_config("", "c.toml", Path::new("."), "c", &[o("model.dpeth=4")]).unwrap_err();
    assert!(
        e.to_string().starts_with("--set model.dpeth=4:") && e.to_string().contains("dpeth"),
        "{e}"
    );
    let e = parse_config("", "c.toml", Path::new("."), "c", &[o("model.depth=0")]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--set model.depth=0: model.depth = 0: must be at least 1"
    );
    assert!(Override::parse("model.depth").is_err());
}

#[test]
fn csv_paths_are_relative_to_the_config_file() {
    let exp = parse_config(
        "[data]\nname = \"csv\"\npath = \"x.csv\"\ntarget = \"y\"\n",
        "c.toml",
        Path::new("/data/cfg"),
        "c",
        &[],
    )
    .unwrap();
    match exp.data {
        DataSpec::Csv { path, .. } => assert_eq!(path, Path::new("/data/cfg/x.csv")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn defaults_template_validates() {
    let exp = parse_config(DEFAULTS_TOML, "d.toml", Path::new("."), "d", &[]).unwrap();
    assert_eq!(exp.name, "d");
    assert_eq!(gradscope_config::config_hash(&exp.raw).len(), 8);
}
