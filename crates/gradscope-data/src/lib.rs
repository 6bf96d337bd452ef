//! Data sets for gradscope.
//!
//! Everything a training run needs to know about its data lives here: a [`DataSpec`] says
//! which data set to load (synthetic `gaussian`, `teacher`, `spirals` and the `adding` problem; the bundled `digits`
//! and `mnist1d`; or a user's `csv` file), [`load()`] turns it into a [`Dataset`] (standardised
//! features in flat `f32` buffers, class labels or regression values, a train and a test
//! split), and a [`BatchSampler`] decides the order in which training rows are visited.
//!
//! All randomness goes through [`SeededRng`], so the same spec and seeds give bit-identical
//! data and batches, on which gradscope's comparisons (a run against its learning-rate-zero
//! baseline, one initialisation against another) rely. The bundled data is compiled into the
//! binary, so nothing depends on the working directory.
//!
//! ```
//! use gradscope_data::{load, DataSpec, Task};
//!
//! let data = load(&DataSpec::Digits { test_fraction: 0.2, split_seed: 0 }, 0)?;
//! assert_eq!(data.task, Task::Classification { classes: 10 });
//! assert_eq!(data.input_dim, 64);
//! assert_eq!(data.train.n + data.test.n, 1797);
//! assert_eq!(data.train.x.len(), data.train.n * 64);
//! # Ok::<(), gradscope_data::DataError>(())
//! ```

pub mod batch;
pub mod dataset;
pub mod error;
pub mod load;
pub mod rng;
pub mod spec;
mod synthetic;
mod table;

pub use batch::BatchSampler;
pub use dataset::{Dataset, Split, Targets, Task};
pub use error::{DataError, Result};
pub use load::{CsvTable, MIN_TEST_ROWS, MIN_TRAIN_ROWS, file_kind, load, parse_csv_bytes};
pub use rng::SeededRng;
pub use spec::{CsvTarget, CsvTask, DataSpec, MAX_CLASSES, MAX_ELEMENTS};
pub use table::{MAX_CSV_BYTES, MAX_CSV_COLUMNS, MAX_CSV_RECORD_BYTES};
