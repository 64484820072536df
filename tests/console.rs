//! The console's tests, built as one binary: snapshots of every view and dialog, key
//! scripts against the drill source, every terminal size, the idle byte count, and an
//! end-to-end run of the real binary inside tmux.

#[path = "console/support.rs"]
mod support;

#[path = "console/cli.rs"]
mod cli;
#[path = "console/connstate.rs"]
mod connstate;
#[path = "console/e2e.rs"]
mod e2e;
#[path = "daemon/harness.rs"]
mod harness;
#[path = "console/idle.rs"]
mod idle;
#[path = "console/keyscripts.rs"]
mod keyscripts;
#[path = "console/live.rs"]
mod live;
#[path = "console/navigation.rs"]
mod navigation;
#[path = "console/screenshots.rs"]
mod screenshots;
#[path = "console/sizes.rs"]
mod sizes;
#[path = "console/snapshots.rs"]
mod snapshots;
#[path = "console/truth.rs"]
mod truth;
