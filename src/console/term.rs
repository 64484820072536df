//! The terminal: raw mode and the alternate screen on entry, and their undoing on every
//! way out — a normal quit (the guard's `Drop`), an error (the same `Drop` while the error
//! unwinds the stack), a panic (a hook that restores first, then prints), and SIGTERM,
//! SIGHUP or SIGINT (a flag the event loop checks, which then leaves through `Drop`).
//! A watchdog thread covers the terminal going away: a read on a hung-up terminal can keep
//! the input reader spinning without returning, so when the terminal is gone (or a stop
//! signal came) and the loop has not left within a second, the watchdog restores what it
//! can and ends the process.

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ratatui::crossterm::cursor::{Hide, Show};
use ratatui::crossterm::terminal::{
    EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{event, execute};

/// Restores the terminal when dropped.
pub struct Guard {
    _private: (),
}

impl Guard {
    pub fn enter() -> io::Result<Guard> {
        enable_raw_mode()?;
        let guard = Guard { _private: () };
        execute!(io::stdout(), EnterAlternateScreen, Hide, event::EnableFocusChange)?;
        Ok(guard)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal back as the shell expects it. Safe to call twice.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        EndSynchronizedUpdate,
        event::DisableFocusChange,
        LeaveAlternateScreen,
        Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// Restores the terminal before any panic message is printed.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    // Only the console's own thread owns the terminal: a panic elsewhere (a network task,
    // which the live source notices and starts again) must not take the screen from it.
    let console = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == console {
            restore();
        }
        previous(info);
    }));
}

/// Holds the number of the stop signal that arrived (SIGTERM, SIGHUP: the terminal went
/// away, or SIGINT), 0 while none did.
pub fn stop_signals() -> io::Result<Arc<AtomicUsize>> {
    let flag = Arc::new(AtomicUsize::new(0));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
    ] {
        signal_hook::flag::register_usize(sig, flag.clone(), sig as usize)?;
    }
    Ok(flag)
}

pub fn stopped(flag: &AtomicUsize) -> bool {
    flag.load(Ordering::Relaxed) != 0
}

/// The signal that stopped the console, if one did.
pub fn stop_signal(flag: &AtomicUsize) -> Option<i32> {
    match flag.load(Ordering::Relaxed) {
        0 => None,
        n => Some(n as i32),
    }
}

/// The conventional exit code of a process ended by `signal`: 128 + its number.
pub fn signal_exit_code(signal: i32) -> u8 {
    (128 + signal).clamp(0, 255) as u8
}

/// Whether the terminal is still there (a hung-up terminal is no longer a terminal).
pub fn terminal_present() -> bool {
    io::stdin().is_terminal() && io::stdout().is_terminal()
}

/// Watches for the terminal going away or a stop signal; raises `flag`, then, if the
/// event loop is still running a second later, ends the process.
/// A terminal that went away counts as SIGHUP (which is what it usually sends).
pub fn spawn_watchdog(flag: Arc<AtomicUsize>) {
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(250));
            if stopped(&flag) || !terminal_present() {
                break;
            }
        }
        let _ = flag.compare_exchange(
            0,
            signal_hook::consts::SIGHUP as usize,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        std::thread::sleep(Duration::from_secs(1));
        restore();
        let sig = stop_signal(&flag).unwrap_or(signal_hook::consts::SIGHUP);
        std::process::exit(i32::from(signal_exit_code(sig)));
    });
}
