//! Script runs as the API shows them: which script on which host, the output lines the
//! agent streamed (bounded), and how it ended. Kept in memory for the most recent runs;
//! the journal keeps their events (HC-1300..HC-1303) for good.

use std::collections::BTreeMap;
use std::sync::Mutex;

pub use crate::wire::RunView;

/// Runs kept in memory.
const MAX_RUNS: usize = 256;
/// Output lines kept per run.
const MAX_LINES: usize = 2000;

#[derive(Default)]
pub struct Runs {
    runs: Mutex<BTreeMap<u64, RunView>>,
}

impl Runs {
    pub fn started(&self, run: u64, script: String, host: String) {
        let Ok(mut runs) = self.runs.lock() else { return };
        runs.insert(
            run,
            RunView {
                run,
                script,
                host,
                ..RunView::default()
            },
        );
        while runs.len() > MAX_RUNS {
            runs.pop_first();
        }
    }

    pub fn line(&self, run: u64, line: &str) {
        let Ok(mut runs) = self.runs.lock() else { return };
        if let Some(r) = runs.get_mut(&run) {
            if r.lines.len() < MAX_LINES {
                r.lines.push(crate::engine::config::clip(line, 4096).into_owned());
            } else {
                r.dropped += 1;
            }
        }
    }

    pub fn finished(&self, run: u64, exit_code: Option<i32>, timed_out: bool, duration_ms: u64) {
        let Ok(mut runs) = self.runs.lock() else { return };
        if let Some(r) = runs.get_mut(&run) {
            r.done = true;
            r.exit_code = exit_code;
            r.timed_out = timed_out;
            r.duration_ms = Some(duration_ms);
        }
    }

    pub fn get(&self, run: u64) -> Option<RunView> {
        self.runs.lock().ok()?.get(&run).cloned()
    }
}
