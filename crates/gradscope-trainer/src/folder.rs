//! Run folders on disk: one writer at a time, and a folder that is either the old run or the new
//! one, never a mix.
//!
//! - **One writer.** Before anything else, a writer takes an exclusive lock (`File::try_lock`,
//!   released by the operating system when the process ends, however it ends) on a hidden file
//!   beside the folder, `.<name>.lock`. A second writer is refused at once with
//!   [`Error::Busy`](crate::Error::Busy) and its own exit code, instead of interleaving its files
//!   with the first's.
//! - **Old or new.** A run is written into a hidden staging folder beside its destination,
//!   `.<name>.staging-<pid>`, and swapped into place only when every file is written: the old
//!   folder is renamed aside (`.<name>.replaced-<pid>`), the staging folder renamed onto the
//!   destination, the old one removed. A writer killed before the swap leaves the old run
//!   untouched; one killed between the two renames leaves the old run aside, and the next writer
//!   (holding the lock) puts it back before it starts.
//! - **Writable before the first step.** Opening the folder creates the staging folder and writes
//!   a probe file in it, so an unwritable `--out` fails in milliseconds, not after training.
//! - **Never someone else's folder.** An existing destination is replaced only when it holds
//!   nothing but the files a run writes; anything else is refused, so a mistyped `--out` cannot
//!   take a user's own folder away.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};

use tracing::{debug, warn};

use crate::error::{Error, Result};

/// The entries a run folder may hold: what a run writes (see `crate::output`). A hidden entry
/// (a temporary file of an interrupted write) is allowed too.
const RUN_ENTRIES: &[&str] = &[
    "config.toml",
    "metrics.jsonl",
    "metrics.csv",
    "summary.json",
    "report.html",
    "plots",
    "tensorboard",
    "sweep_run.json",
];

/// An exclusive lock held for as long as the value lives (and by the OS, until the process ends).
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
}

impl FolderLock {
    /// Takes the lock in `lock_file` for the folder `what` (named in the error), or refuses with
    /// [`Error::Busy`] naming the process that holds it.
    pub fn acquire(lock_file: &Path, what: &Path) -> Result<FolderLock> {
        if let Some(parent) = lock_file.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock_file)
            .map_err(|e| Error::io(lock_file, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(Error::Busy {
                    path: what.to_path_buf(),
                    holder: holder.trim().to_string(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(lock_file, e)),
        }
        // Who holds it, for the second writer's error message.
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = write!(file, "{}", std::process::id());
        let _ = file.flush();
        Ok(FolderLock { _file: file })
    }
}

/// A run folder being written: locked, with a staging folder to write into and a
/// [`commit`](RunFolder::commit) that swaps it into place.
#[derive(Debug)]
pub struct RunFolder {
    dir: PathBuf,
    parent: PathBuf,
    name: OsString,
    staging: PathBuf,
    committed: bool,
    _lock: FolderLock,
}

fn hidden(parent: &Path, name: &OsString, suffix: &str) -> PathBuf {
    let mut n = OsString::from(".");
    n.push(name);
    n.push(".");
    n.push(suffix);
    parent.join(n)
}

/// Whether `dir` may be replaced by a run: absent, empty, or holding only what a run writes.
fn check_replaceable(dir: &Path) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return Err(Error::Usage(format!(
                "{}: exists and is not a folder; choose another --out",
                dir.display()
            )));
        }
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !name.starts_with('.') && !RUN_ENTRIES.contains(&name.as_ref()) {
            return Err(Error::Usage(format!(
                "{}: exists and holds {name:?}, which no run writes; a run replaces its folder \
                 whole, so choose another --out (or remove the folder)",
                dir.display()
            )));
        }
    }
    Ok(())
}

impl RunFolder {
    /// Locks `dir`, repairs what a writer that died may have left, and creates the staging
    /// folder (proving that the destination's folder is writable).
    pub fn open(dir: &Path) -> Result<RunFolder> {
        let name = match dir.components().next_back() {
            Some(Component::Normal(n)) => n.to_os_string(),
            _ => {
                return Err(Error::Usage(format!(
                    "--out {}: must name a folder (not `.`, `..` or `/`)",
                    dir.display()
                )));
            }
        };
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let lock = FolderLock::acquire(&hidden(&parent, &name, "lock"), dir)?;
        recover(&parent, &name, dir)?;
        check_replaceable(dir)?;
        let staging = hidden(&parent, &name, &format!("staging-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
        let folder = RunFolder {
            dir: dir.to_path_buf(),
            parent,
            name,
            staging,
            committed: false,
            _lock: lock,
        };
        // Prove that files can be written (a read-only mount lets mkdir fail, but a full disk or
        // a quota lets it pass and fails the first write).
        let probe = folder.staging.join(".probe");
        File::create(&probe)
            .and_then(|mut f| f.write_all(b"gradscope").and_then(|_| f.sync_all()))
            .map_err(|e| Error::io(&folder.staging, e))?;
        fs::remove_file(&probe).map_err(|e| Error::io(&probe, e))?;
        Ok(folder)
    }

    /// Where the run's files are written until [`commit`](RunFolder::commit).
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// The destination.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Swaps the staging folder into place: afterwards the destination holds exactly the new run.
    pub fn commit(mut self) -> Result<()> {
        if let Err(e) = check_replaceable(&self.dir) {
            // Something not a run's appeared in the destination while the run went on: keep the
            // finished run where it is rather than lose it.
            self.committed = true;
            return Err(Error::Usage(format!(
                "{e}; the finished run is kept in {}",
                self.staging.display()
            )));
        }
        let aside = hidden(
            &self.parent,
            &self.name,
            &format!("replaced-{}", std::process::id()),
        );
        let had_old = self.dir.exists();
        if had_old {
            fs::rename(&self.dir, &aside).map_err(|e| Error::io(&self.dir, e))?;
        }
        if let Err(e) = fs::rename(&self.staging, &self.dir) {
            if had_old {
                let _ = fs::rename(&aside, &self.dir);
            }
            return Err(Error::io(&self.dir, e));
        }
        self.committed = true;
        if had_old && let Err(e) = fs::remove_dir_all(&aside) {
            warn!("could not remove the replaced run {}: {e}", aside.display());
        }
        // Make the renames durable before the caller reports success.
        if let Ok(d) = File::open(&self.parent) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for RunFolder {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// Repairs what a writer of `name` that died left in `parent` (the caller holds the lock): its
/// staging folders are removed, and an old run it had renamed aside is put back if the
/// destination is missing (it died between the two renames of the swap), or removed.
fn recover(parent: &Path, name: &OsString, dir: &Path) -> Result<()> {
    let prefix = |kind: &str| {
        let mut p = OsString::from(".");
        p.push(name);
        p.push(format!(".{kind}-"));
        p.to_string_lossy().into_owned()
    };
    let (staging, replaced) = (prefix("staging"), prefix("replaced"));
    let entries = fs::read_dir(parent).map_err(|e| Error::io(parent, e))?;
    let pid_suffix = |s: &str, p: &str| {
        s.strip_prefix(p)
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if pid_suffix(&file_name, &staging) {
            debug!("removing the unfinished run {}", path.display());
            let _ = fs::remove_dir_all(&path);
        } else if pid_suffix(&file_name, &replaced) {
            if dir.exists() {
                let _ = fs::remove_dir_all(&path);
            } else {
                warn!(
                    "restoring {} from {} (a writer died while replacing it)",
                    dir.display(),
                    path.display()
                );
                fs::rename(&path, dir).map_err(|e| Error::io(dir, e))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(p: &Path, text: &str) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    #[test]
    fn a_second_writer_is_refused_until_the_first_is_done() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("run");
        let first = RunFolder::open(&dir).unwrap();
        let second = RunFolder::open(&dir).unwrap_err();
        assert!(matches!(second, Error::Busy { .. }), "{second}");
        assert!(
            second.to_string().contains(&std::process::id().to_string()),
            "{second}"
        );
        drop(first);
        RunFolder::open(&dir).unwrap();
    }

    #[test]
    fn a_commit_replaces_the_old_run_whole_and_an_abandoned_one_leaves_it() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("run");
        write(&dir.join("summary.json"), "old");
        write(&dir.join("plots/a.png"), "old plot");
        // Abandoned (an error, or a kill before the swap): the old run stays as it was.
        let f = RunFolder::open(&dir).unwrap();
        write(&f.staging().join("config.toml"), "new");
        drop(f);
        assert_eq!(fs::read_to_string(dir.join("summary.json")).unwrap(), "old");
        assert!(!dir.join("config.toml").exists());
        // Committed: exactly the new files, nothing of the old run left.
        let f = RunFolder::open(&dir).unwrap();
        write(&f.staging().join("summary.json"), "new");
        f.commit().unwrap();
        assert_eq!(fs::read_to_string(dir.join("summary.json")).unwrap(), "new");
        assert!(!dir.join("plots").exists());
        let hidden: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("staging") || n.contains("replaced"))
            .collect();
        assert!(hidden.is_empty(), "{hidden:?}");
    }

    #[test]
    fn a_writer_that_died_mid_swap_is_repaired_by_the_next() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("run");
        // Died between the two renames: the old run aside, no destination.
        write(&d.path().join(".run.replaced-999999/summary.json"), "old");
        write(&d.path().join(".run.staging-999999/config.toml"), "half");
        let f = RunFolder::open(&dir).unwrap();
        assert_eq!(fs::read_to_string(dir.join("summary.json")).unwrap(), "old");
        assert!(!d.path().join(".run.staging-999999").exists());
        drop(f);
    }

    #[test]
    fn a_folder_that_is_not_a_run_is_never_replaced() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("docs");
        write(&dir.join("thesis.tex"), "precious");
        let e = RunFolder::open(&dir).unwrap_err();
        assert!(e.to_string().contains("thesis.tex"), "{e}");
        assert!(dir.join("thesis.tex").exists());
        let e = RunFolder::open(Path::new("..")).unwrap_err();
        assert!(e.to_string().contains("must name a folder"), "{e}");
    }
}
