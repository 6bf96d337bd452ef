//! The bundled configs reproduce the lecture's verdicts, and runs are reproducible byte for byte.

mod common;

use common::{gradscope, repo};

/// Runs a bundled config and returns its summary.
fn run(config: &str, extra: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = repo().join("configs").join(config);
    let mut args = vec![
        "run",
        path.to_str().unwrap(),
        "--out",
        "out",
        "--no-progress",
        "--no-report",
        "-q",
    ];
    args.extend_from_slice(extra);
    let o = gradscope(&args, dir.path());
    assert!(
        o.status.success(),
        "{config}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn healthy_mlp_learns() {
    let s = run("digits-healthy.toml", &[]);
    assert_eq!(s["verdict"], "learning");
    assert_eq!(s["diagnosis"]["kind"], "healthy");
    assert!(s["final"]["real"]["test_accuracy"].as_f64().unwrap() > 0.9);
}

#[test]
fn deep_plain_sigmoid_vanishes_and_is_indistinguishable() {
    let s = run("digits-plain-deep.toml", &[]);
    assert_eq!(
        s["verdict"], "indistinguishable",
        "{}",
        s["learning_signal"]
    );
    let why = s["verdict_reason"].as_str().unwrap();
    assert!(
        why.starts_with("never left the learning-rate-0 band"),
        "{why}"
    );
    // The README quotes this run's first-to-last ratio: it must not drift from what the run says.
    let ratio = s["diagnosis"]["evidence"]["first_to_last_ratio"]
        .as_f64()
        .unwrap();
    let quoted = format!("{ratio:.1e}");
    let readme = std::fs::read_to_string(repo().join("README.md"))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let control = &s["head_only"];
    let pct = |v: &serde_json::Value| format!("{:.1} %", 100.0 * v.as_f64().unwrap());
    for phrase in [
        format!("first layer receives {quoted} of the last layer's gradient"),
        format!("(first/last {quoted}), indistinguishable"),
        format!(
            "({} against the control's {}, {:.2} standard errors)",
            pct(&control["real"]),
            pct(&control["head_only"]),
            control["standard_errors"].as_f64().unwrap()
        ),
    ] {
        assert!(
            readme.contains(&phrase),
            "the README does not say: {phrase}"
        );
    }
    assert_eq!(s["diagnosis"]["kind"], "vanishing");
    assert!(
        s["diagnosis"]["evidence"]["first_to_last_ratio"]
            .as_f64()
            .unwrap()
            < 1e-6
    );
    let remedies = s["diagnosis"]["remedies"].to_string();
    assert!(remedies.contains("residual"), "{remedies}");
    // The head-only control: the real run is no better than training the output head alone.
    let control = &s["head_only"];
    assert_eq!(control["layers_contributed"], false, "{control}");
    assert!(
        why.ends_with(control["reason"].as_str().unwrap()),
        "the verdict's reason does not end with the control's: {why}"
    );
    assert!(
        why.contains("the layers below the head did not contribute"),
        "{why}"
    );
}

#[test]
fn same_depth_with_residual_and_norm_learns() {
    let s = run("digits-residual-norm.toml", &[]);
    assert_eq!(s["verdict"], "learning");
    // The identity path hands the input's features to the head, so on digits (almost linearly
    // separable) the head-only control is strong too, unlike the plain net's (~10 %): the control
    // measures what the layers add beyond that, which the verdict's reason states.
    let control = &s["head_only"];
    assert!(
        control["finals"]["test_accuracy"].as_f64().unwrap() > 0.5,
        "{control}"
    );
    let why = s["verdict_reason"].as_str().unwrap();
    assert!(why.ends_with(control["reason"].as_str().unwrap()), "{why}");
    assert_eq!(s["diagnosis"]["kind"], "healthy");
    assert!(s["final"]["real"]["test_accuracy"].as_f64().unwrap() > 0.9);
}

/// The user's case (issue 11): a deep ReLU net whose gradient is healthy at initialisation and
/// vanishes later, for a lasting stretch but fewer than half of the records, while its dead
/// units grow. A majority vote over records called it healthy with no remedy.
#[test]
fn vanishing_that_appears_during_training_is_named_with_dying_relu_remedies() {
    let s = run("digits-dying-relu.toml", &[]);
    let d = &s["diagnosis"];
    let e = &d["evidence"];
    assert_eq!(d["kind"], "vanishing", "{}", e["summary"]);
    let w = &e["worst"];
    assert_eq!(w["kind"], "vanishing");
    assert_eq!(w["onset"], "during_training", "{w}");
    let from = w["from_step"].as_u64().unwrap();
    assert!(from > 0 && w["records"].as_u64().unwrap() >= 3, "{w}");
    // Healthy at initialisation.
    assert!(e["first_to_last_ratio"].as_f64().unwrap() > 1e-2);
    let phases = e["phases"].as_array().unwrap();
    assert_eq!(phases[0]["kind"], "healthy");
    let summary = e["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!("vanishing during training, from step {from} ")),
        "{summary}"
    );
    // "… (7 records; 22 of 61 records vanish, …)": a minority, which a vote would call healthy.
    let (vanishing, rest) = summary
        .split_once("records; ")
        .and_then(|(_, t)| t.split_once(" of "))
        .unwrap();
    let total = rest.split_once(' ').unwrap().0;
    let (vanishing, total): (u64, u64) = (vanishing.parse().unwrap(), total.parse().unwrap());
    assert!(2 * vanishing < total, "{summary}");
    let dead = &e["dead_units"];
    assert_eq!(dead["grew"], true, "{dead}");
    assert!(dead["first"].as_f64().unwrap() <= 0.5, "{dead}");
    assert!(dead["peak"].as_f64().unwrap() > 0.5, "{dead}");
    assert!(summary.contains("dead ReLU units"), "{summary}");
    // Remedies are data, with the config settings that make them and the sentence for people.
    let remedy = &d["remedies"][0];
    assert_eq!(remedy["change"], "lower_learning_rate", "{remedy}");
    assert_eq!(remedy["settings"][0]["key"], "optim.lr", "{remedy}");
    assert_eq!(remedy["settings"][0]["values"][0], "0.02", "{remedy}");
    let remedies: Vec<&str> = d["remedies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert!(
        remedies[0].starts_with("lower the learning rate (optim.lr = 0.02, now 0.2)"),
        "{remedies:?}"
    );
    assert!(
        remedies
            .iter()
            .any(|r| r.contains("model.activation = \"leaky_relu\"")),
        "{remedies:?}"
    );
}

#[test]
fn exploding_net_stops_at_the_first_nonfinite_with_its_producer() {
    let s = run("digits-exploding.toml", &[]);
    assert_eq!(s["status"], "nonfinite");
    assert_eq!(s["verdict"], "diverged");
    let why = s["verdict_reason"].as_str().unwrap();
    assert!(why.starts_with("stopped at step"), "{why}");
    assert_eq!(s["diagnosis"]["kind"], "exploding");
    let nf = &s["first_nonfinite"];
    assert!(nf["layer"].as_u64().unwrap() >= 1);
    assert!(
        nf["layer_name"].as_str().unwrap().starts_with("blocks."),
        "{nf}"
    );
    assert!(nf["kind"].is_string());
    // With --fail-on-nonfinite the same finding is an error exit.
    let dir = tempfile::tempdir().unwrap();
    let path = repo().join("configs/digits-exploding.toml");
    let o = gradscope(
        &[
            "run",
            path.to_str().unwrap(),
            "--out",
            "o",
            "-q",
            "--no-report",
            "--fail-on-nonfinite",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(6));
    assert!(
        dir.path().join("o/summary.json").exists(),
        "the finding is written before exiting"
    );
}

#[test]
fn clipping_and_a_lower_rate_make_it_train() {
    let s = run("digits-clipped.toml", &[]);
    assert_eq!(s["status"], "completed");
    assert!(s["first_nonfinite"].is_null());
    assert_eq!(s["verdict"], "learning");
}

#[test]
fn mnist1d_mlp_reaches_sixty_percent() {
    let s = run("mnist1d-mlp.toml", &["--set", "train.head_only=true"]);
    let acc = s["final"]["real"]["test_accuracy"].as_f64().unwrap();
    assert!(acc >= 0.60, "MNIST-1D test accuracy {acc}");
    assert_eq!(s["verdict"], "learning");
    // MNIST-1D is far from linearly separable in its raw features: a linear read-out of the
    // random hidden features reaches ~38 %, the trained layers ~64 % (15 standard errors).
    let control = &s["head_only"];
    assert_eq!(control["layers_contributed"], true, "{control}");
}

#[test]
fn pure_noise_is_indistinguishable() {
    let s = run(
        "gaussian.toml",
        &["--set", "train.steps=200", "--set", "model.depth=4"],
    );
    // Nothing to learn: at most the output bias fits the target mean.
    let v = s["verdict"].as_str().unwrap();
    assert!(
        matches!(v, "indistinguishable" | "bias_only"),
        "{v}: {}",
        s["learning_signal"]
    );
}

/// Same config and seeds: byte-identical metrics.jsonl, and a summary identical but for its
/// timing fields, on 1 and 2 threads alike, on the default backend (flex) and on ndarray. The
/// width (256) is large enough that the backends split the matrix products over both threads,
/// and the recorder's per-layer reductions run in parallel.
#[test]
fn reruns_are_byte_identical_across_thread_counts() {
    for device in ["flex", "ndarray"] {
        reruns_identical_on(device);
    }
}

fn reruns_identical_on(device: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = repo().join("configs/digits-residual-norm.toml");
    let mut outputs = Vec::new();
    for (out, threads) in [("a", "2"), ("b", "2"), ("c", "1")] {
        let o = gradscope(
            &[
                "--device",
                device,
                "run",
                path.to_str().unwrap(),
                "--out",
                out,
                "-q",
                "--no-report",
                "--threads",
                threads,
                "--set",
                "model.width=256",
                "--set",
                "train.steps=40",
                "--set",
                "model.depth=6",
                "--set",
                "model.norm=\"batch\"",
                "--set",
                "train.record_every=1",
            ],
            dir.path(),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let metrics = std::fs::read(dir.path().join(out).join("metrics.jsonl")).unwrap();
        let mut summary: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join(out).join("summary.json")).unwrap(),
        )
        .unwrap();
        summary["steps_per_second"] = serde_json::Value::Null;
        summary["wall_time_s"] = serde_json::Value::Null;
        outputs.push((metrics, summary));
    }
    assert!(!outputs[0].0.is_empty());
    assert_eq!(
        outputs[0].0, outputs[1].0,
        "{device}: metrics.jsonl differs between identical runs"
    );
    assert_eq!(
        outputs[0].1, outputs[1].1,
        "{device}: summary.json differs beyond timing"
    );
    assert_eq!(
        outputs[0].0, outputs[2].0,
        "{device}: metrics.jsonl differs between 1 and 2 threads"
    );
}
