//! Shared test helpers: temporary data directories, skipping with a reason, and network
//! namespaces removed on drop, even when the test fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static N: AtomicU32 = AtomicU32::new(0);

fn unique() -> String {
    format!("{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// A directory under the system's temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("hactl-exec-test-{}", unique()));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Runs `ip ARGS`, panicking with its stderr on failure (test set-up only).
pub fn ip(args: &[&str]) {
    let o = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        o.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
}

pub fn ip_out(args: &[&str]) -> String {
    let o = Command::new("ip").args(args).output().expect("run ip");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A network namespace `hactl-test-PID-N`, deleted (with its interfaces) on drop.
pub struct Netns(pub String);

impl Netns {
    /// A new namespace, or `None` (with the reason printed) when the test cannot make one.
    pub fn create(test: &str) -> Option<Netns> {
        if !is_root() {
            eprintln!("skipped {test}: needs root to create network namespaces");
            return None;
        }
        let name = format!("hactl-test-{}", unique());
        match Command::new("ip").args(["netns", "add", &name]).output() {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                eprintln!(
                    "skipped {test}: `ip netns add` failed: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                return None;
            }
            Err(e) => {
                eprintln!("skipped {test}: cannot run `ip` (iproute2 missing?): {e}");
                return None;
            }
        }
        let ns = Netns(name);
        ip(&["-n", &ns.0, "link", "set", "lo", "up"]);
        Some(ns)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// Living members of a process group, as a tool other than the code under test sees them.
pub fn group_alive(pgid: i32) -> Vec<i32> {
    hactl::daemon::exec::pgroup::group_members(pgid)
}
