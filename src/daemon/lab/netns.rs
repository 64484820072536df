//! The lab's network as root: a namespace per controller and per host, a bridge in a
//! namespace of its own (STP off, forward delay 0, multicast snooping off) and a veth pair
//! from each namespace to it, with addresses that exist only inside the lab. Everything is
//! done with `ip` run with an argv (never a shell). [`in_netns`] runs a closure on a thread
//! that joined a namespace, so `up` and `status` can reach the controllers there.

use std::process::Command;

use super::plan::{CTL_IF, HOST_IF, Plan};
use crate::daemon::exec::net::ip_program;

/// Runs `ip ARGS`, or says which command failed and why.
pub fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new(ip_program())
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `ip {}`: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(format!("`ip {}` failed: {}", args.join(" "), err.trim()))
    }
}

/// The namespaces whose names start with `prefix`.
pub fn list(prefix: &str) -> Vec<String> {
    ip(&["netns", "list"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(prefix))
        .map(String::from)
        .collect()
}

/// Creates the lab's namespaces, bridge and links. Refuses when a namespace of the lab's
/// prefix exists already. On error the caller removes what was made ([`remove`]).
pub fn create(plan: &Plan) -> Result<(), String> {
    let prefix = plan.prefix();
    if let Some(n) = list(&prefix).first() {
        return Err(format!("network namespace {n} exists already: refusing to reuse it"));
    }
    let Some(br) = plan.bridge_netns() else {
        return Ok(());
    };
    ip(&["netns", "add", &br])?;
    ip(&[
        "-n",
        &br,
        "link",
        "add",
        "br0",
        "type",
        "bridge",
        "stp_state",
        "0",
        "forward_delay",
        "0",
        "mcast_snooping",
        "0",
    ])?;
    ip(&["-n", &br, "link", "set", "br0", "up"])?;
    let mut members: Vec<(String, &str, String)> = Vec::new();
    for s in &plan.sites {
        if let Some(ns) = &s.netns {
            let addr = s.listen.split(':').next().unwrap_or_default().to_string();
            members.push((ns.clone(), CTL_IF, addr));
        }
    }
    for h in &plan.hosts {
        if let Some(ns) = &h.netns {
            members.push((ns.clone(), HOST_IF, h.ip.clone()));
        }
    }
    for (i, (ns, ifname, addr)) in members.iter().enumerate() {
        join_bridge(&br, ns, &format!("v{i}"), ifname, &format!("{addr}/16"))?;
    }
    // The SIP servers listen on their pair's VIP before it is bound here.
    for h in &plan.hosts {
        if let Some(ns) = &h.netns {
            let name = ns.clone();
            in_netns(Some(ns), move || {
                std::fs::write("/proc/sys/net/ipv4/ip_nonlocal_bind", "1")
                    .map_err(|e| format!("cannot allow non-local binds in {name}: {e}"))
            })??;
        }
    }
    Ok(())
}

/// Creates namespace `ns` with interface `ifname` (address `cidr`) linked to the bridge as
/// port `port`.
pub fn join_bridge(br: &str, ns: &str, port: &str, ifname: &str, cidr: &str) -> Result<(), String> {
    ip(&["netns", "add", ns])?;
    ip(&[
        "-n", br, "link", "add", port, "type", "veth", "peer", "name", ifname, "netns", ns,
    ])?;
    ip(&["-n", br, "link", "set", port, "master", "br0", "up"])?;
    ip(&["-n", ns, "link", "set", "lo", "up"])?;
    ip(&["-n", ns, "addr", "add", cidr, "dev", ifname])?;
    ip(&["-n", ns, "link", "set", ifname, "up"])?;
    Ok(())
}

/// Kills every process left in the namespaces of `prefix` and removes them. Returns what
/// could not be removed.
pub fn remove(prefix: &str) -> Vec<String> {
    let mut left = Vec::new();
    for ns in list(prefix) {
        for pid in ip(&["netns", "pids", &ns]).unwrap_or_default().lines() {
            if let Ok(pid) = pid.trim().parse::<i32>()
                && pid > 1
            {
                // SAFETY: kill has no memory effects; pid is a process inside the lab.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        if let Err(e) = ip(&["netns", "del", &ns]) {
            left.push(e);
        }
    }
    left
}

/// Runs `f` on a thread that joined network namespace `ns` (or on a plain thread).
pub fn in_netns<T: Send + 'static>(ns: Option<&str>, f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let ns = ns.map(String::from);
    std::thread::spawn(move || {
        if let Some(ns) = &ns {
            let path = format!("/run/netns/{ns}");
            let file = std::fs::File::open(&path).map_err(|e| format!("cannot open {path}: {e}"))?;
            use std::os::fd::AsRawFd;
            // SAFETY: setns on a valid descriptor changes only this thread's namespace.
            if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(format!("cannot join {ns}: {}", std::io::Error::last_os_error()));
            }
        }
        Ok(f())
    })
    .join()
    .map_err(|_| "a namespace thread failed".to_string())?
}

/// `GET url` with a bearer token from namespace `ns`: the status and the body as JSON.
pub fn http_get(ns: Option<&str>, url: &str, token: &str) -> Result<(u16, serde_json::Value), String> {
    let url = url.to_string();
    let token = token.to_string();
    in_netns(ns, move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime: {e}"))?;
        rt.block_on(async {
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(2))
                .no_proxy()
                .build()
                .map_err(|e| format!("cannot build a client: {e}"))?;
            let resp = client
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            Ok((status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)))
        })
    })?
}
