//! TensorBoard event files, written without protoc or a TensorBoard crate.
//!
//! An event file is a sequence of TFRecords (`u64` length, masked CRC-32C of the length, the
//! bytes, masked CRC-32C of the bytes), each holding an `Event` protocol buffer. The few messages
//! needed are encoded by hand:
//!
//! ```text
//! Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//! Summary { repeated Value value = 1; }
//! Value   { string tag = 1; float simple_value = 2; }
//! ```
//!
//! [`write_tensorboard`] writes, under `<run>/tensorboard/`, one folder per arm (`real`,
//! `baseline`: TensorBoard shows each as a run, so the two losses share one chart) with the
//! scalars `loss`, `grad_norm`, `eval/*`, and per layer `act_grad_norm/layer_NNN` and
//! `weight_grad_norm/layer_NNN`. The wall time of each event is its step in seconds, so the files
//! are byte-identical for identical records.
//!
//! [`LiveTensorboard`] writes the same files as a run records, one event per record, flushed at
//! once, so `tensorboard --logdir` follows a run in progress; the finished files are byte for byte
//! those [`write_tensorboard`] writes from the same records.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use gradscope_record::{RunKind, StepRecord};

use crate::error::ReportError;
use crate::fsutil::{create_dir, write_atomic};

/// CRC-32C (Castagnoli), bitwise-reflected, as TFRecord uses it.
pub fn crc32c(bytes: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, entry) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0x82F6_3B78 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *entry = c;
        }
        t
    });
    let mut crc = !0u32;
    for &b in bytes {
        crc = table[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

fn masked_crc(bytes: &[u8]) -> u32 {
    let c = crc32c(bytes);
    (c.rotate_right(15)).wrapping_add(0xa282_ead8)
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn field_bytes(field: u32, bytes: &[u8], out: &mut Vec<u8>) {
    varint(((field << 3) | 2) as u64, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn event(step: i64, body: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut e = Vec::new();
    e.push(0x09); // field 1, fixed64: wall_time
    e.extend_from_slice(&(step as f64).to_le_bytes());
    e.push(0x10); // field 2, varint: step
    varint(step as u64, &mut e);
    body(&mut e);
    e
}

fn scalars_event(step: i64, values: &[(String, f32)]) -> Vec<u8> {
    event(step, |e| {
        let mut summary = Vec::new();
        for (tag, v) in values {
            let mut value = Vec::new();
            field_bytes(1, tag.as_bytes(), &mut value);
            value.push(0x15); // field 2, fixed32: simple_value
            value.extend_from_slice(&v.to_le_bytes());
            field_bytes(1, &value, &mut summary);
        }
        field_bytes(5, &summary, e);
    })
}

fn tfrecord(data: &[u8], out: &mut Vec<u8>) {
    let len = (data.len() as u64).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
}

/// The first event of every file: the format version.
fn header(out: &mut Vec<u8>) {
    tfrecord(&event(0, |e| field_bytes(3, b"brain.Event:2", e)), out);
}

/// The bytes of an event file holding `records` of one arm.
pub fn event_file(records: &[&StepRecord]) -> Vec<u8> {
    let mut out = Vec::new();
    header(&mut out);
    for r in records {
        record_event(r, &mut out);
    }
    out
}

/// One record's scalars as one framed event.
fn record_event(r: &StepRecord, out: &mut Vec<u8>) {
    {
        let mut values: Vec<(String, f32)> = vec![
            ("loss".into(), r.loss.get() as f32),
            ("grad_norm".into(), r.grad_norm.get() as f32),
        ];
        if let Some(e) = &r.eval {
            values.push(("eval/train_loss".into(), e.train_loss.get() as f32));
            values.push(("eval/test_loss".into(), e.test_loss.get() as f32));
            if let Some(a) = e.test_accuracy {
                values.push(("eval/test_accuracy".into(), a.get() as f32));
            }
        }
        for (name, series) in [
            ("act_grad_norm", &r.layers.act_grad_norm),
            ("weight_grad_norm", &r.layers.weight_grad_norm),
        ] {
            for (i, v) in series.iter().enumerate() {
                if let Some(v) = v {
                    values.push((format!("{name}/layer_{:03}", i + 1), v.get() as f32));
                }
            }
        }
        tfrecord(&scalars_event(r.step as i64, &values), out);
    }
}

const FILE_NAME: &str = "events.out.tfevents.0.gradscope";

/// Event files written while a run records (see the module docs).
#[derive(Debug)]
pub struct LiveTensorboard {
    root: PathBuf,
    files: Vec<(RunKind, PathBuf, File)>,
}

impl LiveTensorboard {
    /// Writes under `<dir>/tensorboard/`; an arm's folder and file are created with its first
    /// record.
    pub fn new(dir: &Path) -> Self {
        Self {
            root: dir.join("tensorboard"),
            files: Vec::new(),
        }
    }

    /// Appends one record to its arm's file and flushes it, so a reader sees it now.
    pub fn append(&mut self, r: &StepRecord) -> Result<(), ReportError> {
        let index = match self.files.iter().position(|(k, _, _)| *k == r.run) {
            Some(i) => i,
            None => {
                let folder = self.root.join(r.run.name());
                create_dir(&folder)?;
                let path = folder.join(FILE_NAME);
                let file = File::create(&path).map_err(|e| ReportError::io(&path, e))?;
                self.files.push((r.run, path, file));
                let i = self.files.len() - 1;
                let mut bytes = Vec::new();
                header(&mut bytes);
                self.write(i, &bytes)?;
                i
            }
        };
        let mut bytes = Vec::new();
        record_event(r, &mut bytes);
        self.write(index, &bytes)
    }

    fn write(&mut self, index: usize, bytes: &[u8]) -> Result<(), ReportError> {
        let (_, path, file) = &mut self.files[index];
        file.write_all(bytes)
            .and_then(|()| file.flush())
            .map_err(|e| ReportError::io(path.as_path(), e))
    }

    /// The files written so far.
    pub fn files(&self) -> Vec<PathBuf> {
        self.files.iter().map(|(_, p, _)| p.clone()).collect()
    }
}

/// Writes `<dir>/tensorboard/{real,baseline}/events.out.tfevents.0.gradscope` from a run's
/// records; returns the files written.
pub fn write_tensorboard(dir: &Path, records: &[StepRecord]) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = Vec::new();
    for kind in [RunKind::Real, RunKind::Baseline] {
        let arm: Vec<&StepRecord> = records.iter().filter(|r| r.run == kind).collect();
        if arm.is_empty() {
            continue;
        }
        let folder = dir.join("tensorboard").join(kind.name());
        create_dir(&folder)?;
        let path = folder.join(FILE_NAME);
        write_atomic(&path, &event_file(&arm))?;
        files.push(path);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_known_answer() {
        // The standard check value of CRC-32C.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn varints() {
        let mut v = Vec::new();
        varint(300, &mut v);
        assert_eq!(v, [0xac, 0x02]);
    }

    fn record(run: RunKind, step: u64, loss: f64) -> StepRecord {
        use gradscope_record::Real;
        StepRecord {
            schema_version: gradscope_record::SCHEMA_VERSION,
            run,
            step,
            lr: Real(0.1),
            loss: Real(loss),
            grad_norm: Real(1.0),
            clipped: false,
            spectral_product: None,
            layers: gradscope_record::LayerSeries {
                act_grad_norm: vec![Some(Real(0.5)), Some(Real(1.0))],
                ..Default::default()
            },
            eval: None,
            nonfinite: None,
        }
    }

    /// Appending records one by one (reading the file after each) ends with exactly the bytes
    /// `write_tensorboard` writes from the same records, and the file grows with every record.
    #[test]
    fn live_files_equal_the_finished_ones() {
        let records: Vec<StepRecord> = (0..5)
            .flat_map(|s| {
                [
                    record(RunKind::Real, s, 2.0 - 0.1 * s as f64),
                    record(RunKind::Baseline, s, 2.0),
                ]
            })
            .collect();
        let live = tempfile::tempdir().unwrap();
        let mut tb = LiveTensorboard::new(live.path());
        let real_file = live.path().join("tensorboard/real").join(FILE_NAME);
        let mut last_len = 0;
        for r in &records {
            tb.append(r).unwrap();
            if r.run == RunKind::Real {
                let len = std::fs::metadata(&real_file).unwrap().len();
                assert!(len > last_len, "the file did not grow at step {}", r.step);
                last_len = len;
            }
        }
        assert_eq!(tb.files().len(), 2);
        let done = tempfile::tempdir().unwrap();
        let written = write_tensorboard(done.path(), &records).unwrap();
        for path in written {
            let rel = path.strip_prefix(done.path()).unwrap();
            assert_eq!(
                std::fs::read(live.path().join(rel)).unwrap(),
                std::fs::read(&path).unwrap(),
                "{}",
                rel.display()
            );
        }
    }

    /// The record framing reads back: lengths and CRCs check out.
    #[test]
    fn framing_round_trips() {
        let bytes = event_file(&[]);
        let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        assert_eq!(
            u32::from_le_bytes(bytes[8..12].try_into().unwrap()),
            masked_crc(&bytes[..8])
        );
        let data = &bytes[12..12 + len];
        assert_eq!(
            u32::from_le_bytes(bytes[12 + len..16 + len].try_into().unwrap()),
            masked_crc(data)
        );
        assert!(data.windows(13).any(|w| w == b"brain.Event:2"));
        assert_eq!(bytes.len(), 16 + len);
    }
}
