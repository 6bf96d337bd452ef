//! The C allocator's settings for a training loop.
//!
//! Every tensor operation allocates its output. At width 1024 those are 0.5–4 MiB buffers, above
//! glibc's default mmap threshold (128 KiB, raised only lazily by frees), so many of them are a
//! fresh `mmap`, page-faulted in page by page, and `munmap`ped when dropped, and the top of the
//! heap is trimmed back to the OS after every large free. A profile of a burn MLP step at width
//! 1024 found about 17 % of the time in page faults. Keeping those buffers in the heap lets the
//! next step reuse them; peak memory is what the step needs either way (see
//! `docs/performance.md` for the figures with and without).

/// Largest buffer served from the heap rather than by its own `mmap` (glibc's ceiling on 64-bit).
pub const MMAP_THRESHOLD: usize = 32 << 20;
/// Free memory kept at the top of the heap before it is returned to the OS.
pub const TRIM_THRESHOLD: usize = 256 << 20;

/// Raises glibc's mmap and trim thresholds for this process, unless the user set them through
/// glibc's own environment variables (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`), or
/// `GRADSCOPE_MALLOC=default` asks for glibc's defaults. Returns whether it changed anything.
/// A no-op on other C libraries and systems.
pub fn tune_allocator() -> bool {
    let env_set = |name: &str| std::env::var_os(name).is_some();
    if std::env::var("GRADSCOPE_MALLOC").is_ok_and(|v| v == "default")
        || env_set("MALLOC_MMAP_THRESHOLD_")
        || env_set("MALLOC_TRIM_THRESHOLD_")
    {
        return false;
    }
    set_thresholds()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn set_thresholds() -> bool {
    // SAFETY: mallopt only changes allocator parameters; it is called once at start-up, before
    // any thread is spawned, and both values are within glibc's documented ranges.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int) == 1
            && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD as libc::c_int) == 1
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_thresholds() -> bool {
    false
}
