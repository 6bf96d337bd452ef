//! Reading CSV files of numbers: streamed through the `csv` crate, with limits on what a file
//! may make us read or hold, and errors that name the file, the line and the column.
//!
//! The `csv` crate does the splitting (quoted fields may hold commas, doubled quotes and line
//! breaks). A small guard between the file and the `csv` reader counts what goes through: the
//! total size, the size of the record being read (so an unclosed quote or a binary file cannot
//! grow one record without bound), and the line on which each record starts (the `csv` crate's
//! own positions skip blank lines and count a `\r\n` late, and we promise exact lines).

use std::collections::VecDeque;
use std::io::{self, Read};
use std::path::PathBuf;

use crate::error::{DataError, Result};
use crate::spec::{CsvTarget, MAX_ELEMENTS};

/// Largest CSV file, in bytes, that a data set may be read from: 1 GiB.
///
/// Far above any table a gradient study trains on (MNIST written as CSV is about 110 MB), and
/// small enough that a wrong path (a log, a disk image, a file that keeps growing) fails within
/// seconds instead of filling the memory. What is kept is bounded separately: every value is
/// held as an `f32`, at most [`MAX_ELEMENTS`] of them (1 GiB).
pub const MAX_CSV_BYTES: u64 = 1 << 30;

/// Longest record (a line, with any line breaks inside quotes), in bytes: 1 MiB.
///
/// The widest table allowed ([`MAX_CSV_COLUMNS`]) at 32 bytes a cell, more than any number
/// needs (`-1.2345678901234567e-308,` is 25), fits. A longer record is an unclosed double
/// quote, which swallows the rest of the file, or a file that is not text; the `csv` reader
/// would otherwise hold it all in memory as one record.
pub const MAX_CSV_RECORD_BYTES: usize = 1 << 20;

/// Most columns a CSV file may have: 32,768 (a 181 × 181 image as one row of pixels).
///
/// Every feature becomes an input of the model's first layer; a wider row is far more likely a
/// file that is not a table of numbers, or a missing line break, than a data set.
pub const MAX_CSV_COLUMNS: usize = 1 << 15;

/// Upper bounds on one read (the constants above; the unit tests use small ones).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Bytes in the whole input.
    pub bytes: u64,
    /// Bytes in one record.
    pub record_bytes: usize,
    /// Cells in one row.
    pub columns: usize,
    /// Values (rows × columns) in the table.
    pub values: usize,
}

impl Limits {
    /// The documented limits.
    pub(crate) const DEFAULT: Limits = Limits {
        bytes: MAX_CSV_BYTES,
        record_bytes: MAX_CSV_RECORD_BYTES,
        columns: MAX_CSV_COLUMNS,
        values: MAX_ELEMENTS,
    };
}

/// Where the guard is in the CSV grammar; the same states and moves as `csv-core`'s reader
/// with our settings (`,` between fields, `"` quotes doubled inside quotes, records ended by
/// `\n`, no comments or escapes), so that its records are the `csv` reader's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    /// Between records; a `\n` here is an empty line, which the `csv` reader skips.
    StartRecord,
    /// At the start of a field: a `"` opens a quoted field.
    StartField,
    /// Inside an unquoted field (a `"` here is an ordinary character).
    InField,
    /// Inside quotes: `,` and `\n` are part of the field.
    InQuoted,
    /// Just after a `"` inside quotes: another `"` is an escaped quote, anything else closes.
    QuoteInQuoted,
}

/// Where a record the `csv` reader will return starts.
#[derive(Debug, Clone, Copy)]
struct Start {
    /// 1-based line of its first byte.
    line: usize,
    /// The first empty line skipped just before it, if any.
    blank_before: Option<usize>,
}

/// A limit the guard stopped the read at.
#[derive(Debug, Clone, Copy)]
enum Failure {
    /// More than [`Limits::bytes`] in all.
    TooLarge,
    /// The record starting on this line grew past [`Limits::record_bytes`].
    RecordTooLong { line: usize },
}

/// A [`Read`] between the input and the `csv` reader: enforces the size limits and notes where
/// every record starts.
struct Guard<R> {
    inner: R,
    limits: Limits,
    /// Bytes read so far.
    total: u64,
    /// 1-based line of the next byte.
    line: usize,
    lex: Lex,
    /// Bytes of the record being read.
    record_bytes: usize,
    /// Line on which the record being read started.
    record_line: usize,
    /// The first empty line since the last record.
    skipped_blank: Option<usize>,
    /// Starts of the records read by the guard but not yet returned by the `csv` reader (a
    /// buffer's worth at most).
    starts: VecDeque<Start>,
    failure: Option<Failure>,
    /// Bytes of a byte-order mark matched at the very start.
    bom_matched: u64,
}

/// The UTF-8 byte-order mark some spreadsheet programs begin a CSV file with; the `csv` reader
/// drops it, so the guard does not count it as part of a field.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

impl<R: Read> Guard<R> {
    fn new(inner: R, limits: Limits) -> Self {
        Guard {
            inner,
            limits,
            total: 0,
            line: 1,
            lex: Lex::StartRecord,
            record_bytes: 0,
            record_line: 1,
            skipped_blank: None,
            starts: VecDeque::new(),
            failure: None,
            bom_matched: 0,
        }
    }

    /// Follows one byte; `false` when the record being read is now too long.
    fn step(&mut self, byte: u8) -> bool {
        if self.lex == Lex::StartRecord {
            if byte == b'\n' {
                self.skipped_blank.get_or_insert(self.line);
                self.line += 1;
                return true;
            }
            self.starts.push_back(Start {
                line: self.line,
                blank_before: self.skipped_blank.take(),
            });
            self.record_line = self.line;
            self.record_bytes = 0;
            self.lex = Lex::StartField;
        }
        self.record_bytes += 1;
        if self.record_bytes > self.limits.record_bytes {
            self.failure = Some(Failure::RecordTooLong {
                line: self.record_line,
            });
            return false;
        }
        self.lex = match (self.lex, byte) {
            (Lex::StartField, b'"') => Lex::InQuoted,
            (Lex::StartField | Lex::InField | Lex::QuoteInQuoted, b',') => Lex::StartField,
            (Lex::StartField | Lex::InField | Lex::QuoteInQuoted, b'\n') => Lex::StartRecord,
            (Lex::InQuoted, b'"') => Lex::QuoteInQuoted,
            (Lex::InQuoted, _) => Lex::InQuoted,
            (Lex::QuoteInQuoted, b'"') => Lex::InQuoted,
            (Lex::StartField | Lex::InField | Lex::QuoteInQuoted | Lex::StartRecord, _) => {
                Lex::InField
            }
        };
        if byte == b'\n' {
            self.line += 1;
        }
        true
    }
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let stopped = || io::Error::other("stopped at a limit on CSV input");
        if self.failure.is_some() {
            return Err(stopped());
        }
        let n = self.inner.read(buf)?;
        for &byte in &buf[..n] {
            let at = self.total;
            self.total += 1;
            if self.total > self.limits.bytes {
                self.failure = Some(Failure::TooLarge);
                return Err(stopped());
            }
            let in_bom = at == self.bom_matched && BOM.get(at as usize) == Some(&byte);
            if in_bom {
                self.bom_matched += 1;
            } else if !self.step(byte) {
                return Err(stopped());
            }
        }
        Ok(n)
    }
}

/// A cell's text without surrounding spaces (a `\r` of a `\r\n` line end included) and without
/// one pair of double quotes the `csv` reader left because spaces came before them
/// (`a, "b" ,c`).
fn clean(text: &str) -> &str {
    let text = text.trim();
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .map_or(text, str::trim)
}

/// Streams the rows of a CSV file of numbers, checking each as it comes.
///
/// Rules, each with its error: every record fits the [`Limits`] (`TooLarge`, `RecordTooLong`,
/// `TooManyColumns`); the text is UTF-8 (`Parse`); every row has as many cells as the first
/// (`Ragged`); every data cell is a number finite as an `f32` (`Parse`); trailing blank lines
/// are skipped but a blank line before data is a `Parse` error. Lines may end in `\n` or
/// `\r\n`, and a leading UTF-8 byte-order mark is ignored.
pub(crate) struct CsvReader<R: Read> {
    csv: csv::Reader<Guard<R>>,
    path: String,
    has_header: bool,
    header: Option<Vec<String>>,
    width: Option<usize>,
    limits: Limits,
    record: csv::ByteRecord,
    /// The first line of only spaces seen since the last data row.
    pending_blank: Option<usize>,
}

impl<R: Read> CsvReader<R> {
    /// Starts reading `input` (named `path` in errors) and reads the header if it has one.
    pub(crate) fn new(input: R, path: &str, has_header: bool, limits: Limits) -> Result<Self> {
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::None)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(Guard::new(input, limits));
        let mut reader = CsvReader {
            csv,
            path: path.to_owned(),
            has_header,
            header: None,
            width: None,
            limits,
            record: csv::ByteRecord::new(),
            pending_blank: None,
        };
        if has_header {
            let Some(line) = reader.next_record()? else {
                return Err(DataError::Empty { path: reader.path });
            };
            reader.set_width(line)?;
            let names = reader
                .record
                .iter()
                .enumerate()
                .map(|(c, field)| Ok(clean(reader.utf8(field, line, c)?).to_owned()))
                .collect::<Result<Vec<String>>>()?;
            reader.header = Some(names);
        }
        Ok(reader)
    }

    /// The header's column names, if the file has a header.
    pub(crate) fn header(&self) -> Option<&[String]> {
        self.header.as_deref()
    }

    /// The header name of 0-based column `column`, if there is a header and the name is not
    /// empty.
    pub(crate) fn column_name(&self, column: usize) -> Option<&str> {
        self.header
            .as_ref()
            .and_then(|names| names.get(column))
            .map(String::as_str)
            .filter(|name| !name.is_empty())
    }

    /// Reads the next data row into `row` (cleared first) and returns its 1-based line, or
    /// `None` at the end of the file.
    pub(crate) fn next_row(&mut self, row: &mut Vec<f64>) -> Result<Option<usize>> {
        let Some(line) = self.next_record()? else {
            return Ok(None);
        };
        let width = match self.width {
            Some(width) => width,
            None => self.set_width(line)?,
        };
        if self.record.len() != width {
            return Err(DataError::Ragged {
                path: self.path.clone(),
                line,
                expected: width,
                found: self.record.len(),
            });
        }
        row.clear();
        for c in 0..width {
            let value = self.number(&self.record[c], line, c)?;
            row.push(value);
        }
        Ok(Some(line))
    }

    /// Takes the current record's cell count as the table's width, within the column limit.
    fn set_width(&mut self, line: usize) -> Result<usize> {
        let found = self.record.len();
        if found > self.limits.columns {
            return Err(DataError::TooManyColumns {
                path: self.path.clone(),
                line,
                found,
                limit: self.limits.columns,
            });
        }
        self.width = Some(found);
        Ok(found)
    }

    /// Reads the next record that is not blank and returns its line. A blank record (only
    /// spaces) is remembered and is an error if a record with content follows.
    fn next_record(&mut self) -> Result<Option<usize>> {
        loop {
            let read = self.csv.read_byte_record(&mut self.record);
            let found = match read {
                Ok(found) => found,
                Err(e) => return Err(self.csv_error(e)),
            };
            if !found {
                return Ok(None);
            }
            let start = self.csv.get_mut().starts.pop_front();
            // The guard sees every record the `csv` reader returns, so `start` is always
            // there; the reader's own position is a fallback that is right for `\n` files.
            let line = start.map_or_else(
                || {
                    self.record
                        .position()
                        .map_or(1, |p| usize::try_from(p.line()).unwrap_or(usize::MAX))
                },
                |s| s.line,
            );
            let blank = match (self.pending_blank, start.and_then(|s| s.blank_before)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let is_blank = self.record.len() == 1 && self.record[0].trim_ascii().is_empty();
            if is_blank {
                self.pending_blank = Some(blank.map_or(line, |b| b.min(line)));
                continue;
            }
            if let Some(blank) = blank {
                return Err(DataError::Parse {
                    path: self.path.clone(),
                    line: blank,
                    column: 1,
                    message: "blank line inside the data (only blank lines at the end are skipped)"
                        .to_owned(),
                });
            }
            return Ok(Some(line));
        }
    }

    /// A `csv` error as ours: a limit the guard stopped at, or the underlying read's error.
    fn csv_error(&mut self, e: csv::Error) -> DataError {
        let path = self.path.clone();
        match self.csv.get_mut().failure.take() {
            Some(Failure::TooLarge) => DataError::TooLarge {
                path,
                size: None,
                limit: self.limits.bytes,
            },
            Some(Failure::RecordTooLong { line }) => DataError::RecordTooLong {
                path,
                line,
                limit: self.limits.record_bytes,
            },
            None => match e.into_kind() {
                csv::ErrorKind::Io(source) => DataError::Io {
                    path: PathBuf::from(path),
                    source,
                },
                // With flexible records, byte records and no serde, the `csv` reader reports
                // nothing but I/O errors; keep anything else readable all the same.
                other => DataError::Io {
                    path: PathBuf::from(path),
                    source: io::Error::other(format!("{other:?}")),
                },
            },
        }
    }

    /// A cell's bytes as text.
    fn utf8<'a>(&self, field: &'a [u8], line: usize, column: usize) -> Result<&'a str> {
        std::str::from_utf8(field).map_err(|_| DataError::Parse {
            path: self.path.clone(),
            line,
            column: column + 1,
            message: "the file is not UTF-8 text".to_owned(),
        })
    }

    /// A data cell as a number that is finite as an `f32`, the type it is trained in.
    fn number(&self, field: &[u8], line: usize, column: usize) -> Result<f64> {
        let text = clean(self.utf8(field, line, column)?);
        let place = match self.column_name(column) {
            Some(name) => format!(" in column {name:?}"),
            None => String::new(),
        };
        let problem = match text.parse::<f64>() {
            // `as` rounds to the nearest f32; beyond f32::MAX it gives infinity.
            Ok(value) if (value as f32).is_finite() => return Ok(value),
            Ok(value) if value.is_nan() || text.to_ascii_lowercase().contains("inf") => {
                format!("expected a finite number{place}, found {text:?}")
            }
            Ok(_) => format!(
                "expected a number{place} within f32's range (magnitude at most {:e}), \
                 found {text:?}",
                f32::MAX
            ),
            Err(_) if text.is_empty() => format!("expected a number{place}, found an empty cell"),
            Err(_) => format!("expected a number{place}, found {text:?}"),
        };
        // Words on the first line of a file read without a header are most likely column names.
        let hint = if line == 1 && !self.has_header {
            "; if the first row names the columns, set has_header"
        } else {
            ""
        };
        Err(DataError::Parse {
            path: self.path.clone(),
            line,
            column: column + 1,
            message: format!("{problem}{hint}"),
        })
    }
}

/// A CSV table read for training: the target column apart, every other column a feature.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    /// The header's column names, if the file has a header.
    pub header: Option<Vec<String>>,
    /// 0-based index of the target column.
    pub target_col: usize,
    /// Data rows.
    pub n: usize,
    /// Features per row (the columns but the target).
    pub dim: usize,
    /// `n × dim` features, row-major, as trained on.
    pub x: Vec<f32>,
    /// The target of every row, as written (class labels are checked against this).
    pub y: Vec<f64>,
}

impl Table {
    /// The target column's header name, if there is a header and the name is not empty.
    pub(crate) fn target_name(&self) -> Option<&str> {
        self.header
            .as_ref()
            .and_then(|names| names.get(self.target_col))
            .map(String::as_str)
            .filter(|name| !name.is_empty())
    }
}

/// Reads a whole table from `input` (named `path` in errors), with `target` as its target
/// column. With `labels_below = Some(k)` every target must be a class label in `0..k`, checked
/// as each row is read, so the error names the row's line.
pub(crate) fn read_table<R: Read>(
    input: R,
    path: &str,
    has_header: bool,
    target: &CsvTarget,
    labels_below: Option<usize>,
    limits: Limits,
) -> Result<Table> {
    let mut reader = CsvReader::new(input, path, has_header, limits)?;
    let mut row = Vec::new();
    let Some(first_line) = reader.next_row(&mut row)? else {
        return Err(DataError::Empty {
            path: path.to_owned(),
        });
    };
    let columns = row.len();
    let target_col = resolve_target(reader.header(), target, columns, path)?;
    if columns < 2 {
        return Err(DataError::invalid(
            "target",
            target,
            &format!("{path} has a single column, which leaves no features"),
        ));
    }
    let column_name = reader.column_name(target_col).map(str::to_owned);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut line = first_line;
    let mut n = 0usize;
    loop {
        if (n + 1)
            .checked_mul(columns)
            .is_none_or(|v| v > limits.values)
        {
            return Err(DataError::TooManyValues {
                path: path.to_owned(),
                line,
                limit: limits.values,
            });
        }
        let value = row[target_col];
        if let Some(classes) = labels_below {
            check_label(
                value,
                classes,
                path,
                line,
                target_col,
                column_name.as_deref(),
            )?;
        }
        x.extend(
            row.iter()
                .enumerate()
                .filter(|&(c, _)| c != target_col)
                .map(|(_, &v)| v as f32),
        );
        y.push(value);
        n += 1;
        match reader.next_row(&mut row)? {
            Some(next) => line = next,
            None => break,
        }
    }
    Ok(Table {
        header: reader.header,
        target_col,
        n,
        dim: columns - 1,
        x,
        y,
    })
}

/// Checks that `value` (line `line`, 0-based column `column`) is a class label below `classes`.
fn check_label(
    value: f64,
    classes: usize,
    path: &str,
    line: usize,
    column: usize,
    column_name: Option<&str>,
) -> Result<()> {
    if !(value >= 0.0 && value.fract() == 0.0) {
        let place = column_name.map_or_else(String::new, |n| format!(" in column {n:?}"));
        return Err(DataError::Parse {
            path: path.to_owned(),
            line,
            column: column + 1,
            message: format!("expected a non-negative integer class label{place}, found {value}"),
        });
    }
    if value >= classes as f64 {
        return Err(DataError::LabelOutOfRange {
            path: path.to_owned(),
            line,
            column: column + 1,
            column_name: column_name.map(str::to_owned),
            label: value,
            classes,
        });
    }
    Ok(())
}

/// The 0-based index of the target column among `columns`.
///
/// An index must be below `columns`. A name is looked up in the header (trimmed, exactly); it
/// must name exactly one column. Without a header a name of digits is an index. `last` is the
/// last column, unless the header names another column `last`, which is ambiguous.
pub(crate) fn resolve_target(
    header: Option<&[String]>,
    target: &CsvTarget,
    columns: usize,
    path: &str,
) -> Result<usize> {
    let missing = |hint: String| DataError::MissingTarget {
        path: path.to_owned(),
        target: target.clone(),
        available: match header {
            Some(names) => names.to_vec(),
            None => (0..columns).map(|i| i.to_string()).collect(),
        },
        hint,
    };
    let ambiguous = |found: Vec<usize>| DataError::AmbiguousTarget {
        path: path.to_owned(),
        target: target.clone(),
        columns: found,
    };
    let named = |name: &str| -> Vec<usize> {
        header.map_or_else(Vec::new, |names| {
            (0..names.len()).filter(|&i| names[i] == name).collect()
        })
    };
    let index_hint = || {
        format!(
            "; the file has {columns} column{}, so a 0-based index is at most {}",
            if columns == 1 { "" } else { "s" },
            columns.saturating_sub(1)
        )
    };
    match target {
        CsvTarget::Index(index) if *index < columns => Ok(*index),
        CsvTarget::Index(_) => Err(missing(index_hint())),
        CsvTarget::Name(name) if name.trim() != "last" => {
            let wanted = name.trim();
            if header.is_none() {
                return match wanted.parse::<usize>() {
                    Ok(index) if index < columns => Ok(index),
                    Ok(_) => Err(missing(index_hint())),
                    Err(_) => Err(missing(
                        "; the file has no header (has_header = false), so columns are named by \
                         0-based index"
                            .to_owned(),
                    )),
                };
            }
            match named(wanted)[..] {
                [index] => Ok(index),
                [] if wanted.parse::<usize>().is_ok() => Err(missing(format!(
                    "; a number in quotes is a column name: for the 0-based index write \
                     target = {wanted}, without quotes"
                ))),
                [] => Err(missing(String::new())),
                ref several => Err(ambiguous(several.to_vec())),
            }
        }
        // `Last`, or a `Name` that says "last".
        _ => {
            let last = columns - 1;
            let others: Vec<usize> = named("last").into_iter().filter(|&i| i != last).collect();
            if others.is_empty() {
                Ok(last)
            } else {
                Err(ambiguous([others, vec![last]].concat()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits {
        bytes: 1000,
        record_bytes: 40,
        columns: 4,
        values: 12,
    };

    /// The header and every data row with its line.
    type Rows = (Option<Vec<String>>, Vec<(usize, Vec<f64>)>);

    fn rows(text: &str, has_header: bool) -> Result<Rows> {
        let mut reader = CsvReader::new(text.as_bytes(), "t.csv", has_header, Limits::DEFAULT)?;
        let mut out = Vec::new();
        let mut row = Vec::new();
        while let Some(line) = reader.next_row(&mut row)? {
            out.push((line, row.clone()));
        }
        Ok((reader.header, out))
    }

    fn err(text: &str, has_header: bool) -> String {
        rows(text, has_header).unwrap_err().to_string()
    }

    #[test]
    fn lines_are_exact_with_crlf_quoted_breaks_and_a_bom() {
        let text = "\u{feff}\"a\",\"b\r\nc\"\r\n1,2\r\n\"3\",\"4\"\r\n5,6";
        let (header, rows) = rows(text, true).unwrap();
        assert_eq!(header.unwrap(), vec!["a", "b\r\nc"]);
        assert_eq!(
            rows,
            vec![
                (3, vec![1.0, 2.0]),
                (4, vec![3.0, 4.0]),
                (5, vec![5.0, 6.0])
            ]
        );
        assert_eq!(
            err("a,b\r\n1,2\r\n3,x\r\n", true),
            "t.csv:3:2: expected a number in column \"b\", found \"x\""
        );
        // A quoted line break inside a data row moves the lines after it.
        assert_eq!(
            err("a,b\n\"1\n\",2\n3,x\n", true),
            "t.csv:4:2: expected a number in column \"b\", found \"x\""
        );
    }

    #[test]
    fn quoted_commas_split_correctly() {
        let (header, rows) = rows("a,\"b,x\",c\n1,\"2\",3\n", true).unwrap();
        assert_eq!(header.unwrap(), vec!["a", "b,x", "c"]);
        assert_eq!(rows, vec![(2, vec![1.0, 2.0, 3.0])]);
        assert_eq!(
            err("a,b\n\"1,5\",2\n", true),
            "t.csv:2:1: expected a number in column \"a\", found \"1,5\""
        );
    }

    #[test]
    fn blank_lines_inside_are_errors_at_the_end_are_not() {
        assert_eq!(
            err("1,2\n\n3,4\n", false),
            "t.csv:2:1: blank line inside the data (only blank lines at the end are skipped)"
        );
        assert_eq!(
            err("1,2\r\n  \r\n3,4\r\n", false),
            "t.csv:2:1: blank line inside the data (only blank lines at the end are skipped)"
        );
        assert_eq!(
            err("\na,b\n1,2\n", true),
            "t.csv:1:1: blank line inside the data (only blank lines at the end are skipped)"
        );
        let (_, rows) = rows("1,2\n3,4\n\n \r\n\n", false).unwrap();
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn values_must_be_finite_as_f32() {
        for (cell, what) in [
            ("1e39", "within f32's range"),
            ("-1e308", "within f32's range"),
            ("1e400", "within f32's range"),
            ("inf", "expected a finite number"),
            ("-Infinity", "expected a finite number"),
            ("NaN", "expected a finite number"),
        ] {
            let e = err(&format!("x,y\n1,2\n3,{cell}\n"), true);
            assert!(e.starts_with("t.csv:3:2: "), "{cell}: {e}");
            assert!(
                e.contains(what) && e.contains("column \"y\""),
                "{cell}: {e}"
            );
            assert!(e.contains(&format!("found \"{cell}\"")), "{cell}: {e}");
        }
        let (_, rows) = rows("3.4028234e38,-3.4028234e38,1e-50\n", false).unwrap();
        assert_eq!(rows[0].1[0] as f32, f32::MAX);
    }

    #[test]
    fn limits_stop_the_read_with_the_line() {
        let read = |text: &[u8]| {
            let mut reader = CsvReader::new(text, "t.csv", false, SMALL)?;
            let mut row = Vec::new();
            while reader.next_row(&mut row)?.is_some() {}
            Ok::<_, DataError>(())
        };
        let long = format!("1,2\n3,4\n5,{}\n", "6".repeat(60));
        assert_eq!(
            read(long.as_bytes()).unwrap_err().to_string(),
            "t.csv:3: the record starting on this line is longer than 40 bytes (an unclosed \
             double quote runs to the end of the file; binary data has no line breaks)"
        );
        // An unclosed quote: the record starts on line 2 and runs on.
        let open = format!("1,2\n\"3,4\n{}", "5,6\n".repeat(20));
        let e = read(open.as_bytes()).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::RecordTooLong {
                    line: 2,
                    limit: 40,
                    ..
                }
            ),
            "{e:?}"
        );
        let wide = read(b"1,2,3,4,5\n").unwrap_err();
        assert_eq!(
            wide.to_string(),
            "t.csv:1: 5 cells, more than the 4 columns a CSV file may have"
        );
        let big = "1,2\n".repeat(300);
        let e = read(big.as_bytes()).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::TooLarge {
                    size: None,
                    limit: 1000,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn endless_input_stops_at_a_limit() {
        // Like /dev/zero: no line break ever comes.
        let e = CsvReader::new(io::repeat(0), "zero", false, Limits::DEFAULT)
            .and_then(|mut r| r.next_row(&mut Vec::new()))
            .unwrap_err();
        assert!(
            matches!(e, DataError::RecordTooLong { line: 1, .. }),
            "{e:?}"
        );
        // Endless short rows (a file that keeps growing) stop at the size limit.
        let endless = IterRead(b"1,2\n".iter().copied().cycle());
        let limits = Limits {
            values: usize::MAX,
            ..SMALL
        };
        let e = read_table(endless, "t", false, &CsvTarget::Last, None, limits).unwrap_err();
        assert!(matches!(e, DataError::TooLarge { .. }), "{e:?}");
    }

    /// Bytes from an iterator, as a reader.
    struct IterRead<I>(I);

    impl<I: Iterator<Item = u8>> Read for IterRead<I> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let mut n = 0;
            for slot in buf.iter_mut() {
                match self.0.next() {
                    Some(b) => *slot = b,
                    None => break,
                }
                n += 1;
            }
            Ok(n)
        }
    }

    #[test]
    fn the_table_holds_at_most_the_value_limit() {
        let e = read_table(
            "1,2,3\n4,5,6\n7,8,9\n10,11,12\n13,14,15\n".as_bytes(),
            "t.csv",
            false,
            &CsvTarget::Last,
            None,
            SMALL,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv:5: by this line the table holds more than 12 values, the most a data set may \
             hold in memory"
        );
    }

    #[test]
    fn tables_split_features_and_target() {
        let t = read_table(
            "a,y,b\n1,0,2\n3,1,4\n".as_bytes(),
            "t.csv",
            true,
            &CsvTarget::from("y"),
            Some(2),
            Limits::DEFAULT,
        )
        .unwrap();
        assert_eq!((t.n, t.dim, t.target_col), (2, 2, 1));
        assert_eq!(t.x, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(t.y, vec![0.0, 1.0]);
        assert_eq!(t.target_name(), Some("y"));
        let e = read_table(
            "a,y\n1,0\n3,2\n".as_bytes(),
            "t.csv",
            true,
            &CsvTarget::Last,
            Some(2),
            Limits::DEFAULT,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv:3:2: label 2 in column \"y\" is out of range for 2 classes (labels must be 0..=1)"
        );
    }

    #[test]
    fn targets_resolve_by_index_name_or_last() {
        let names = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let names = Some(&names[..]);
        let resolve = |header, target: CsvTarget| resolve_target(header, &target, 3, "t");
        assert_eq!(resolve(names, CsvTarget::Index(0)).unwrap(), 0);
        assert_eq!(resolve(names, "b".into()).unwrap(), 1);
        assert_eq!(resolve(names, " b ".into()).unwrap(), 1);
        assert_eq!(resolve(names, CsvTarget::Last).unwrap(), 2);
        assert_eq!(resolve(None, "0".into()).unwrap(), 0);
        assert_eq!(resolve(None, CsvTarget::Index(1)).unwrap(), 1);
        assert_eq!(resolve(None, "last".into()).unwrap(), 2);

        assert_eq!(
            resolve(None, "3".into()).unwrap_err().to_string(),
            "t: no target column \"3\"; available: 0, 1, 2 (or \"last\"); the file has 3 \
             columns, so a 0-based index is at most 2"
        );
        assert_eq!(
            resolve(names, CsvTarget::Index(3)).unwrap_err().to_string(),
            "t: no target column 3; available: a, b, c (or \"last\"); the file has 3 columns, \
             so a 0-based index is at most 2"
        );
        // With a header, "0" is a name: say how to write an index.
        assert_eq!(
            resolve(names, "0".into()).unwrap_err().to_string(),
            "t: no target column \"0\"; available: a, b, c (or \"last\"); a number in quotes is \
             a column name: for the 0-based index write target = 0, without quotes"
        );
        assert!(
            resolve(None, "y".into())
                .unwrap_err()
                .to_string()
                .contains("has_header = false")
        );

        // Two columns share the name, or "last" names another column: refuse to guess.
        let twice = vec!["y".to_owned(), "x".to_owned(), "y".to_owned()];
        assert_eq!(
            resolve(Some(&twice), "y".into()).unwrap_err().to_string(),
            "t: target \"y\" could be column 0 or 2 (0-based); write the 0-based index of the \
             one you mean as an integer, e.g. target = 2"
        );
        let last = vec!["last".to_owned(), "x".to_owned(), "y".to_owned()];
        assert!(matches!(
            resolve(Some(&last), CsvTarget::Last),
            Err(DataError::AmbiguousTarget { ref columns, .. }) if columns == &[0, 2]
        ));
        let last_is_last = vec!["a".to_owned(), "x".to_owned(), "last".to_owned()];
        assert_eq!(resolve(Some(&last_is_last), CsvTarget::Last).unwrap(), 2);
    }
}
