//! Script runs: allow-listed scripts started by operators or alarm reactions, their
//! placeholders filled, their results (or their silence past the timeout) logged.

use super::timer::TimerKey;
use super::*;

impl Engine {
    pub(crate) fn operator_script(
        &mut self,
        script: ScriptIx,
        host: HostIx,
        corr: Correlation,
    ) -> Result<Accepted, Refused> {
        let s = self.topo.script(script);
        if !s.allowed_on(host) {
            return Err(self.refuse_script(
                script,
                host,
                corr,
                format!("script {} is not allowed on host {}", s.id, self.topo.host(host).id),
            ));
        }
        if !self.owns_host(host) {
            return Err(self.refuse_script(
                script,
                host,
                corr,
                format!("host {} belongs to another site's controller", self.topo.host(host).id),
            ));
        }
        if !self.hosts[host.ix()].connected {
            return Err(self.refuse_script(
                script,
                host,
                corr,
                format!("the agent of host {} is unreachable", self.topo.host(host).id),
            ));
        }
        // A manual run fills the placeholders an alarm reaction would: the event is the
        // operator's command.
        let vars = [
            ("event", EventId::OperatorCommand.code().to_string()),
            ("subject", self.topo.entity_label(&Entity::Host(host))),
            ("source", "operator".to_string()),
            ("host", self.topo.host(host).id.clone()),
        ];
        let run = self.start_script(script, host, Some(corr), &vars);
        Ok(Accepted {
            correlation: corr,
            switchover: None,
            run: Some(run),
        })
    }

    fn refuse_script(&mut self, script: ScriptIx, host: HostIx, corr: Correlation, why: String) -> Refused {
        self.emit_with(
            EventId::ScriptFailed,
            Entity::Host(host),
            Entity::Host(host),
            Some(corr),
            format!("script {} not started: {why}", self.topo.script(script).id),
            vec![("script", self.topo.script(script).id.clone())],
        );
        Refused(why)
    }

    /// Starts an allow-listed script; `{key}` placeholders in its args are filled from `vars`.
    pub(crate) fn start_script(
        &mut self,
        script: ScriptIx,
        host: HostIx,
        corr: Option<Correlation>,
        vars: &[(&str, String)],
    ) -> u64 {
        let run = self.next_run;
        self.next_run += 1;
        let s = self.topo.script(script).clone();
        let args: Vec<String> = s
            .args
            .iter()
            .map(|a| {
                let mut a = a.clone();
                for (k, v) in vars {
                    a = a.replace(&format!("{{{k}}}"), v);
                }
                a
            })
            .collect();
        self.runs.insert(
            run,
            RunRt {
                script,
                host,
                started: self.now,
                correlation: corr,
            },
        );
        self.timers
            .set(TimerKey::Script(run), self.now + s.timeout + Span::secs(5));
        self.emit_with(
            EventId::ScriptStarted,
            Entity::Host(host),
            Entity::Host(host),
            corr,
            format!("script {} started on {} (run {run})", s.id, self.topo.host(host).id),
            vec![
                ("script", s.id.clone()),
                ("run", run.to_string()),
                ("args", args.join(" ")),
            ],
        );
        self.command(Command::RunScript {
            run,
            host,
            script,
            args,
            correlation: corr,
        });
        run
    }

    pub(crate) fn on_script_result(&mut self, run: u64, o: ScriptOutcome) {
        let Some(r) = self.runs.remove(&run) else { return };
        self.timers.cancel(TimerKey::Script(run));
        let name = self.topo.script(r.script).id.clone();
        let host = self.topo.host(r.host).id.clone();
        let (id, verdict) = match (o.timed_out, o.exit_code) {
            (true, _) => (EventId::ScriptTimedOut, "timed out".to_string()),
            (false, Some(0)) => (EventId::ScriptSucceeded, "succeeded".to_string()),
            (false, Some(c)) => (EventId::ScriptFailed, format!("failed with exit code {c}")),
            (false, None) => (EventId::ScriptFailed, "was killed by a signal".to_string()),
        };
        let tail = o.output_tail.lines().last().unwrap_or("").to_string();
        self.emit_with(
            id,
            Entity::Host(r.host),
            Entity::Host(r.host),
            r.correlation,
            format!(
                "script {name} on {host} {verdict} after {}{}",
                o.duration,
                if tail.is_empty() {
                    String::new()
                } else {
                    format!(": {tail}")
                }
            ),
            vec![
                ("script", name),
                ("run", run.to_string()),
                ("exit_code", o.exit_code.map_or("none".into(), |c| c.to_string())),
                ("duration_ms", o.duration.as_ms().to_string()),
                ("output_tail", o.output_tail),
            ],
        );
    }

    pub(crate) fn on_script_timer(&mut self, run: u64) {
        let Some(r) = self.runs.get(&run) else { return };
        let elapsed = self.now.since(r.started);
        self.on_script_result(
            run,
            ScriptOutcome {
                exit_code: None,
                timed_out: true,
                duration: elapsed,
                output_tail: "no result from the agent".into(),
            },
        );
    }
}
