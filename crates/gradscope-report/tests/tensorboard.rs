//! TensorBoard reads our event files: checked with the real TensorBoard (its Python package),
//! when it is installed. Set `GRADSCOPE_PYTHON` to a Python that has it (default `python3`);
//! without it the test says so and passes.

mod common;

use std::process::Command;

use gradscope_report::{RunData, write_tensorboard};

const READER: &str = r#"
import json, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
out = {}
for arm in ("real", "baseline"):
    acc = EventAccumulator(sys.argv[1] + "/tensorboard/" + arm, size_guidance={"scalars": 0})
    acc.Reload()
    out[arm] = {tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
print(json.dumps(out))
"#;

#[test]
fn tensorboard_reads_the_event_files() {
    let python = std::env::var("GRADSCOPE_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_tb = Command::new(&python)
        .args(["-c", "import tensorboard"])
        .output()
        .is_ok_and(|o| o.status.success());
    let dir = tempfile::tempdir().unwrap();
    let run: RunData = common::vanishing_run();
    let files = write_tensorboard(dir.path(), &run.records).unwrap();
    assert!(!files.is_empty());
    if !has_tb {
        println!(
            "skipped: `{python} -c 'import tensorboard'` failed (pip install tensorboard, or set GRADSCOPE_PYTHON)"
        );
        return;
    }
    let o = Command::new(&python)
        .args(["-c", READER, dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for arm in ["real", "baseline"] {
        let records: Vec<_> = run.records.iter().filter(|r| r.run.name() == arm).collect();
        if records.is_empty() {
            continue;
        }
        let loss = v[arm]["loss"]
            .as_array()
            .unwrap_or_else(|| panic!("no loss in {arm}: {v}"));
        assert_eq!(loss.len(), records.len());
        for (point, r) in loss.iter().zip(&records) {
            assert_eq!(point[0].as_u64().unwrap(), r.step);
            let got = point[1].as_f64().unwrap();
            let want = r.loss.get() as f32 as f64;
            assert!(
                got == want || (got.is_nan() && want.is_nan()),
                "{arm} step {}: {got} vs {want}",
                r.step
            );
        }
        let first_layer = &v[arm]["act_grad_norm/layer_001"];
        assert!(first_layer.as_array().is_some_and(|a| !a.is_empty()), "{v}");
    }
}
