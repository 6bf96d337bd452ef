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
            "[model]\nkind = \"transformer\"\n",
            "c.toml:2: model.kind = \"transformer\": expected one of mlp, chain, rnn, cnn",
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
            "c.toml:2: data.name = \"imagenet\": expected one of gaussian, teacher, spirals, adding, digits, mnist1d, csv",
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

// ---- issue 10: configs that fail clearly and never take a wrong path ----

fn load(path: &Path) -> Result<gradscope_config::Experiment, ConfigError> {
    gradscope_config::load_config(path, &[])
}

#[test]
fn config_reads_refuse_what_is_not_a_regular_file() {
    // A device would be read forever; it is refused before it is opened.
    let e = load(Path::new("/dev/zero")).unwrap_err();
    assert!(matches!(e, ConfigError::NotAFile { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "/dev/zero: not a regular file (a character device); a config must be a regular file"
    );
    let dir = tempfile::tempdir().unwrap();
    let e = load(dir.path()).unwrap_err();
    assert!(
        e.to_string().contains("not a regular file (a directory)"),
        "{e}"
    );
    let e = load(&dir.path().join("missing.toml")).unwrap_err();
    assert!(matches!(e, ConfigError::Io { .. }), "{e:?}");
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.toml");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    // On a thread, so that a regression (an open that blocks) fails the test instead of hanging.
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(gradscope_config::read_config_text(&path).map_err(|e| e.to_string()));
    });
    let got = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("reading a FIFO blocked");
    let e = got.unwrap_err();
    assert!(
        e.ends_with(
            "pipe.toml: not a regular file (a FIFO, a named pipe); a config must be a regular file"
        ),
        "{e}"
    );
}

#[test]
fn config_reads_are_capped_and_must_be_utf8() {
    use gradscope_config::{MAX_CONFIG_BYTES, read_config_text};
    let dir = tempfile::tempdir().unwrap();
    let at_cap = dir.path().join("at_cap.toml");
    let mut text = "seed = 1\n".to_string();
    text.push_str(&"#".repeat(MAX_CONFIG_BYTES as usize - text.len()));
    std::fs::write(&at_cap, &text).unwrap();
    assert_eq!(
        read_config_text(&at_cap).unwrap().len() as u64,
        MAX_CONFIG_BYTES
    );

    let big = dir.path().join("big.toml");
    text.push('#');
    std::fs::write(&big, &text).unwrap();
    let e = load(&big).unwrap_err();
    assert!(
        matches!(e, ConfigError::TooLarge { size: Some(n), .. } if n == MAX_CONFIG_BYTES + 1),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .ends_with("big.toml: is 1048577 bytes; a config may be at most 1 MiB (1048576 bytes)"),
        "{e}"
    );

    let bad = dir.path().join("latin1.toml");
    std::fs::write(&bad, b"seed = 1\n# caf\xe9\n").unwrap();
    let e = load(&bad).unwrap_err();
    assert!(
        matches!(
            e,
            ConfigError::NotUtf8 {
                line: 2,
                offset: 14,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("latin1.toml:2: not UTF-8"), "{e}");
}

#[test]
fn threads_have_a_ceiling() {
    use gradscope_config::MAX_THREADS;
    assert_eq!(
        err("[train]\nthreads = 100000\n"),
        format!("c.toml:2: train.threads = 100000: must be at most {MAX_THREADS} (0 = all cores)")
    );
    for ok in [0, 1, MAX_THREADS] {
        parse_config(
            &format!("[train]\nthreads = {ok}\n"),
            "c.toml",
            Path::new("."),
            "c",
            &[],
        )
        .unwrap();
    }
    let e = parse_config(
        "",
        "c.toml",
        Path::new("."),
        "c",
        &[Override::parse("train.threads=513").unwrap()],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "--set train.threads=513: train.threads = 513: must be at most 512 (0 = all cores)"
    );
}

#[test]
fn ordinary_file_names_give_safe_experiment_names() {
    let dir = tempfile::tempdir().unwrap();
    for (file, want) in [
        ("my net (v2)=.toml", "my-net-v2"),
        ("a b.toml", "a-b"),
        ("a=b.toml", "a-b"),
        ("é.toml", "experiment"),
        ("ネット.toml", "experiment"),
        ("..toml", "experiment"),
        ("digits-plain-deep.toml", "digits-plain-deep"),
    ] {
        let path = dir.path().join(file);
        std::fs::write(&path, "seed = 1\n").unwrap();
        let exp = load(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(exp.name, want, "{file}");
    }
    // parse_config's default name is made safe the same way.
    let exp = parse_config("", "c.toml", Path::new("."), "my sweep", &[]).unwrap();
    assert_eq!(exp.name, "my-sweep");
}

#[test]
fn explicit_names_are_still_checked() {
    for (name, rule) in [
        ("my net", "must be letters, digits"),
        ("é", "must be letters, digits"),
        ("", "must be letters, digits"),
        (".", "must not start with '.'"),
        ("..", "must not start with '.'"),
        (".hidden", "must not start with '.'"),
    ] {
        let got = err(&format!("name = {name:?}\n"));
        assert!(
            got.starts_with(&format!("c.toml:1: name = {name:?}: {rule}")),
            "{got}"
        );
    }
    let got = err(&format!("name = \"{}\"\n", "n".repeat(201)));
    assert!(got.contains("must be at most 200 characters"), "{got}");
    let exp = parse_config("name = \"x..y_1\"\n", "c.toml", Path::new("."), "c", &[]).unwrap();
    assert_eq!(exp.name, "x..y_1");
}

#[test]
fn cosine_min_lr_must_not_exceed_lr() {
    assert_eq!(
        err("[optim]\nlr = 0.01\nschedule = \"cosine\"\nmin_lr = 0.1\n"),
        "c.toml:4: optim.min_lr = 0.1: must be at most optim.lr (0.01) with optim.schedule = \"cosine\", which decays from optim.lr to optim.min_lr"
    );
    // Equal is a constant rate; other schedules ignore min_lr.
    for ok in [
        "[optim]\nlr = 0.1\nschedule = \"cosine\"\nmin_lr = 0.1\n",
        "[optim]\nlr = 0.01\nschedule = \"constant\"\nmin_lr = 0.1\n",
        "[optim]\nlr = 0.01\nschedule = \"warmup\"\nmin_lr = 0.1\n",
    ] {
        parse_config(ok, "c.toml", Path::new("."), "c", &[]).unwrap();
    }
}

#[test]
fn integers_beyond_i64_are_rejected_at_validation() {
    let rule = "must be at most 9223372036854775807 (i64::MAX): TOML integers are 64-bit signed, and the config is saved as TOML";
    for (text, want) in [
        (
            "seed = 18446744073709551615\n",
            "c.toml:1: seed = 18446744073709551615: ",
        ),
        (
            "[data]\nseed = 9223372036854775808\n",
            "c.toml:2: data.seed = 9223372036854775808: ",
        ),
        (
            "[data]\nname = \"digits\"\nsplit_seed = 18446744073709551615\n",
            "c.toml:3: data.split_seed = 18446744073709551615: ",
        ),
        (
            "[data]\nname = \"teacher\"\nteacher_depth = 18446744073709551615\n",
            "c.toml:3: data.teacher_depth = 18446744073709551615: ",
        ),
        (
            "[train]\nsteps = 18446744073709551615\n",
            "c.toml:2: train.steps = 18446744073709551615: ",
        ),
    ] {
        assert_eq!(err(text), format!("{want}{rule}"), "{text}");
    }
    // The same with an override, which re-reads the text as a TOML table first.
    let e = parse_config(
        "seed = 18446744073709551615\n",
        "c.toml",
        Path::new("."),
        "c",
        &[Override::parse("model.depth=3").unwrap()],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("c.toml:1: seed = 18446744073709551615: {rule}")
    );
    // Why: the saved copy of such a config is not TOML that a generic reader accepts (`run`
    // reads the text as a table when it applies its own overrides).
    let raw = gradscope_config::RawConfig {
        seed: u64::MAX,
        ..Default::default()
    };
    let saved = gradscope_config::to_toml(&raw);
    assert!(toml::from_str::<toml::Table>(&saved).is_err(), "{saved}");
    // i64::MAX itself is fine, and the saved config reads back the same.
    let exp = parse_config(
        "seed = 9223372036854775807\n[data]\nname = \"digits\"\nseed = 9223372036854775807\nsplit_seed = 9223372036854775807\n",
        "c.toml",
        Path::new("."),
        "c",
        &[],
    )
    .unwrap();
    let saved = gradscope_config::to_toml(&exp.raw);
    let again = parse_config(&saved, "saved.toml", Path::new("."), "c", &[]).unwrap();
    assert_eq!(again.raw, exp.raw);
    assert_eq!(again.seed, i64::MAX as u64);
}

#[test]
fn set_with_an_integer_beyond_i64_says_so() {
    let e = Override::parse("seed=18446744073709551615").unwrap_err();
    assert_eq!(
        e.to_string(),
        "--set seed=18446744073709551615: 18446744073709551615 is outside TOML's integer range (-9223372036854775808 to 9223372036854775807): a config holds 64-bit signed integers, seeds included; quote it (\"18446744073709551615\") to pass a string"
    );
    assert!(Override::parse("data.seed=-99999999999999999999").is_err());
    // In range: accepted; a quoted value stays a string.
    let o = Override::parse("seed=9223372036854775807").unwrap();
    assert_eq!(o.value, toml::Value::Integer(i64::MAX));
    let o = Override::parse("name=\"18446744073709551615\"").unwrap();
    assert_eq!(o.value, toml::Value::String("18446744073709551615".into()));
}

#[test]
fn saved_configs_resolve_csv_paths_from_any_folder() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    // The CSV need not exist: validation does not open it.
    let cfg = a.path().join("c.toml");
    std::fs::write(
        &cfg,
        "[data]\nname = \"csv\"\npath = \"x.csv\"\ntarget = \"y\"\n",
    )
    .unwrap();
    let exp = load(&cfg).unwrap();
    let want = std::path::absolute(a.path().join("x.csv")).unwrap();
    let DataSpec::Csv { path, .. } = &exp.data else {
        panic!("{:?}", exp.data)
    };
    assert_eq!(path, &want);
    assert_eq!(exp.raw.data.path.as_deref(), want.to_str());

    // The saved copy, in another folder, reads the same file.
    let copy = b.path().join("config.toml");
    std::fs::write(&copy, gradscope_config::to_toml(&exp.raw)).unwrap();
    let again = load(&copy).unwrap();
    let DataSpec::Csv {
        path: again_path, ..
    } = &again.data
    else {
        panic!("{:?}", again.data)
    };
    assert_eq!(again_path, &want);

    // A relative base folder is made absolute against the working directory.
    let exp = parse_config(
        "[data]\nname = \"csv\"\npath = \"x.csv\"\n",
        "c.toml",
        Path::new("cfg"),
        "c",
        &[],
    )
    .unwrap();
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(exp.raw.data.path.as_deref(), cwd.join("cfg/x.csv").to_str());
    assert!(
        err("[data]\nname = \"csv\"\npath = \"\"\n")
            .starts_with("c.toml:3: data.path = \"\": must name the CSV file")
    );
}

#[test]
fn cross_entropy_on_regression_data_is_rejected_before_run() {
    assert_eq!(
        err("[data]\nname = \"gaussian\"\n[train]\nloss = \"cross_entropy\"\n"),
        "c.toml:4: train.loss = \"cross_entropy\": cross_entropy needs a classification data set, and data.name = \"gaussian\" is regression; use \"mse\" or \"auto\""
    );
    let got = err(
        "[data]\nname = \"csv\"\npath = \"x.csv\"\ntask = \"regression\"\n[train]\nloss = \"cross_entropy\"\n",
    );
    assert!(
        got.contains("data.task = \"regression\" is regression"),
        "{got}"
    );
    for ok in ["spirals", "digits", "mnist1d"] {
        parse_config(
            &format!("[data]\nname = \"{ok}\"\n[train]\nloss = \"cross_entropy\"\n"),
            "c.toml",
            Path::new("."),
            "c",
            &[],
        )
        .unwrap();
    }
}

/// `data.target` is a 0-based index when written as an integer and a column name when written as
/// a string; the saved config writes it back the same way and reads back equal.
#[test]
fn csv_targets_round_trip_as_index_or_name() {
    for (written, saved) in [("0", "target = 0"), ("\"y\"", "target = \"y\"")] {
        let text = format!("[data]\nname = \"csv\"\npath = \"/x.csv\"\ntarget = {written}\n");
        let exp = parse_config(&text, "c.toml", Path::new("."), "c", &[]).unwrap();
        let toml = gradscope_config::to_toml(&exp.raw);
        assert!(toml.contains(saved), "{toml}");
        let again = parse_config(&toml, "saved.toml", Path::new("."), "c", &[]).unwrap();
        assert_eq!(again.data, exp.data);
        assert_eq!(again.raw, exp.raw);
    }
}

fn override_err(overrides: &[&str]) -> String {
    let overrides: Vec<Override> = overrides
        .iter()
        .map(|s| Override::parse(s).unwrap())
        .collect();
    parse_config("", "c.toml", Path::new("."), "c", &overrides)
        .unwrap_err()
        .to_string()
}

/// A misspelt key in any table, from a file, names the table and suggests the key it is closest
/// to, at the key's line and column.
#[test]
fn unknown_keys_suggest_the_closest_key_in_every_table() {
    let cases = [
        (
            "sede = 1\n",
            "c.toml:1:1: unknown field `sede` at the top level; did you mean `seed`?",
        ),
        (
            "[modle]\ndepth = 3\n",
            "c.toml:1:2: unknown field `modle` at the top level; did you mean `model`?",
        ),
        (
            "\n\n[model]\ndept = 3\n",
            "c.toml:4:1: unknown field `dept` in [model]; did you mean `depth`?",
        ),
        (
            "[model]\ndepht = 3\n",
            "c.toml:2:1: unknown field `depht` in [model]; did you mean `depth`?",
        ),
        (
            "[data]\nn_trian = 3\n",
            "c.toml:2:1: unknown field `n_trian` in [data]; did you mean `n_train`?",
        ),
        (
            "[optim]\nmomentun = 0.9\n",
            "c.toml:2:1: unknown field `momentun` in [optim]; did you mean `momentum`?",
        ),
        (
            "[train]\nstesp = 3\n",
            "c.toml:2:1: unknown field `stesp` in [train]; did you mean `steps`?",
        ),
        (
            "[diagnosis]\nvanishing_ration = 0.1\n",
            "c.toml:2:1: unknown field `vanishing_ration` in [diagnosis]; did you mean `vanishing_ratio`?",
        ),
        // A dotted key and an inline table are placed by the keys their table allows.
        (
            "model.widht = 3\n",
            "c.toml:1:7: unknown field `widht` in [model]; did you mean `width`?",
        ),
        (
            "model = { dept = 3 }\n",
            "c.toml:1:11: unknown field `dept` in [model]; did you mean `depth`?",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(err(text), want, "config {text:?}");
    }
}

/// A key close to nothing gets the list of the table's keys instead of a guess.
#[test]
fn unknown_keys_far_from_every_key_list_the_table() {
    let got = err("[optim]\nlearning_rate = 0.1\n");
    assert!(
        got.starts_with(
            "c.toml:2:1: unknown field `learning_rate` in [optim], expected one of `name`, `lr`, "
        ),
        "{got}"
    );
    assert!(!got.contains("did you mean"), "{got}");
}

/// `--set` with a misspelt key names that override alone (not every `--set`), its table, and
/// the closest key.
#[test]
fn unknown_override_keys_suggest_the_closest_key() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["model.depth=3", "model.dept=3"],
            "--set model.dept=3: unknown field `dept` in [model]; did you mean `depth`?",
        ),
        (
            &["modle.depth=3"],
            "--set modle.depth=3: unknown field `modle` at the top level; did you mean `model`?",
        ),
        (
            &["sed=3"],
            "--set sed=3: unknown field `sed` at the top level; did you mean `seed`?",
        ),
        (
            &["data.dmi=3"],
            "--set data.dmi=3: unknown field `dmi` in [data]; did you mean `dim`?",
        ),
        (
            &["optim.lr=0.1", "optim.l=0.1"],
            "--set optim.l=0.1: unknown field `l` in [optim]; did you mean `lr`?",
        ),
        (
            &["train.signal_windw=3"],
            "--set train.signal_windw=3: unknown field `signal_windw` in [train]; did you mean `signal_window`?",
        ),
        (
            &["diagnosis.spike_facto=3"],
            "--set diagnosis.spike_facto=3: unknown field `spike_facto` in [diagnosis]; did you mean `spike_factor`?",
        ),
    ];
    for (overrides, want) in cases {
        assert_eq!(override_err(overrides), want, "{overrides:?}");
    }
}

/// A misspelt word value keeps its file:line and the list of allowed words, and suggests the
/// word it is closest to, for every word-valued key, from a file and from `--set`.
#[test]
fn unknown_words_suggest_the_closest_word() {
    let cases = [
        (
            "[model]\nkind = \"mpl\"\n",
            "c.toml:2: model.kind = \"mpl\": expected one of mlp, chain, rnn, cnn; did you mean \"mlp\"?",
        ),
        (
            "\n[model]\n\nactivation = \"rleu\"\n",
            "c.toml:4: model.activation = \"rleu\": expected one of identity, relu, leaky_relu, tanh, sigmoid, gelu, silu; did you mean \"relu\"?",
        ),
        (
            "[model]\nactivation = \"ReLU\"\n",
            "c.toml:2: model.activation = \"ReLU\": expected one of identity, relu, leaky_relu, tanh, sigmoid, gelu, silu; did you mean \"relu\"?",
        ),
        (
            "[model]\ninit = \"he-normal\"\n",
            "c.toml:2: model.init = \"he-normal\": expected one of xavier_normal, xavier_uniform, he_normal, he_uniform, lecun_normal, orthogonal, normal; did you mean \"he_normal\"?",
        ),
        (
            "[model]\nnorm = \"layr\"\n",
            "c.toml:2: model.norm = \"layr\": expected one of none, batch, layer, rms; did you mean \"layer\"?",
        ),
        (
            "[model]\nnorm_position = \"psot\"\n",
            "c.toml:2: model.norm_position = \"psot\": expected one of pre, post; did you mean \"post\"?",
        ),
        (
            "[data]\nname = \"mnist\"\n",
            "c.toml:2: data.name = \"mnist\": expected one of gaussian, teacher, spirals, adding, digits, mnist1d, csv; did you mean \"mnist1d\"?",
        ),
        (
            "[data]\nname = \"csv\"\npath = \"/x.csv\"\ntask = \"regresion\"\n",
            "c.toml:4: data.task = \"regresion\": expected one of auto, classification, regression; did you mean \"regression\"?",
        ),
        (
            "[optim]\nname = \"adma\"\n",
            "c.toml:2: optim.name = \"adma\": expected one of sgd, adam, adamw; did you mean \"adam\"?",
        ),
        (
            "[optim]\nschedule = \"cosin\"\n",
            "c.toml:2: optim.schedule = \"cosin\": expected one of constant, warmup, cosine; did you mean \"cosine\"?",
        ),
        (
            "[train]\nloss = \"cross-entropy\"\n",
            "c.toml:2: train.loss = \"cross-entropy\": expected one of auto, mse, cross_entropy; did you mean \"cross_entropy\"?",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(err(text), want, "config {text:?}");
    }
    // The backends listed depend on the cargo features built in.
    let got = err("device = \"flx\"\n");
    assert!(
        got.starts_with("c.toml:1: device = \"flx\": expected one of ")
            && got.ends_with("; did you mean \"flex\"?"),
        "{got}"
    );
    assert_eq!(
        override_err(&["model.activation=rleu"]),
        "--set model.activation=rleu: model.activation = \"rleu\": expected one of identity, relu, leaky_relu, tanh, sigmoid, gelu, silu; did you mean \"relu\"?"
    );
    // Nothing close: no guess.
    for text in [
        "[model]\nactivation = \"swish2\"\n",
        "[model]\nkind = \"transformer\"\n",
        "[model]\ninit = \"he\"\n",
    ] {
        let got = err(text);
        assert!(
            got.contains("expected one of") && !got.contains("did you mean"),
            "{got}"
        );
    }
}
