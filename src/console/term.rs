//! The terminal: raw mode and the alternate screen on entry, and their undoing on every
//! way out — a normal quit (the guard's `Drop`), an error (the same `Drop` while the error
//! unwinds the stack), a panic (a hook that restores first, then prints), and SIGTERM,
//! SIGHUP or SIGINT (a flag the event loop checks, which then leaves through `Drop`).

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// A flag raised by SIGTERM, SIGHUP (the terminal went away) or SIGINT.
pub fn stop_signals() -> io::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
    ] {
        signal_hook::flag::register(sig, flag.clone())?;
    }
    Ok(flag)
}

pub fn stopped(flag: &AtomicBool) -> bool {
    flag.load(Ordering::Relaxed)
}
