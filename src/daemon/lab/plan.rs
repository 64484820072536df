//! What a lab is made of, decided once by the first `hactl lab up` and written to its
//! directory: two peered sites (`east`, `west`), each with a controller and one SIP pair on
//! two hosts; their addresses (a private /16 inside the lab's namespaces as root, loopback
//! otherwise), the deployment file, the tokens file and one token file per role and agent,
//! and, when Kamailio is used, a minimal configuration per instance.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The sites of a lab and their hosts.
pub const SITES: [(&str, [&str; 2]); 2] = [
    ("east", ["east-sip1", "east-sip2"]),
    ("west", ["west-sip1", "west-sip2"]),
];
/// The operator roles a token file is written for.
pub const ROLES: [&str; 3] = ["viewer", "operator", "admin"];
/// The interface of a host's namespace on the lab's bridge (its NIC `sip`).
pub const HOST_IF: &str = "sip0";
/// The interface of a controller's namespace on the bridge.
pub const CTL_IF: &str = "eth0";
/// The controllers' port inside the namespaces.
pub const CTL_PORT: u16 = 7400;
/// The SIP port inside the namespaces.
pub const SIP_PORT: u16 = 5060;

/// The lab's shape: where everything listens, recorded in `lab.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    /// Short random id; namespaces are named `hactl-ID-...`.
    pub id: String,
    /// Namespaces, a bridge and real VIPs (root), or loopback without VIPs.
    pub netns: bool,
    /// The SIP servers are Kamailio (its path), else the built-in responder.
    pub kamailio: Option<String>,
    pub sites: Vec<SitePlan>,
    pub hosts: Vec<HostPlan>,
    /// The UDP port of the SIP servers.
    pub sip_port: u16,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SitePlan {
    pub id: String,
    pub netns: Option<String>,
    pub listen: String,
    pub url: String,
    /// The site's pair and its VIP (address only) when VIPs are on.
    pub pair: String,
    pub vip: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HostPlan {
    pub id: String,
    pub site: String,
    pub netns: Option<String>,
    /// The address the host's SIP server answers on and its agent probes.
    pub ip: String,
    pub app: String,
}

impl Plan {
    /// A new lab: namespaces when `netns`, else loopback on the given free ports.
    pub fn new(netns: bool, kamailio: Option<String>, ctl_ports: [u16; 2], sip_port: u16) -> Result<Plan, String> {
        let id = random_hex(3)?;
        let ns = |name: &str| netns.then(|| format!("hactl-{id}-{name}"));
        let mut sites = Vec::new();
        let mut hosts = Vec::new();
        for (s, (site, site_hosts)) in SITES.iter().enumerate() {
            let listen = if netns {
                format!("10.237.0.{}:{CTL_PORT}", s + 1)
            } else {
                format!("127.0.0.1:{}", ctl_ports[s])
            };
            sites.push(SitePlan {
                id: site.to_string(),
                netns: ns(&format!("{site}-ctl")),
                url: format!("http://{listen}"),
                listen,
                pair: format!("{site}-sip"),
                vip: netns.then(|| format!("10.237.{}.100", s + 1)),
            });
            for (h, host) in site_hosts.iter().enumerate() {
                let ip = if netns {
                    format!("10.237.{}.{}", s + 1, h + 1)
                } else {
                    format!("127.0.0.{}", 21 + 10 * s + h)
                };
                hosts.push(HostPlan {
                    id: host.to_string(),
                    site: site.to_string(),
                    netns: ns(host),
                    ip,
                    app: format!("{host}-sip"),
                });
            }
        }
        let sip_port = if netns { SIP_PORT } else { sip_port };
        Ok(Plan {
            id,
            netns,
            kamailio,
            sites,
            hosts,
            sip_port,
        })
    }

    /// The namespace prefix of this lab.
    pub fn prefix(&self) -> String {
        format!("hactl-{}-", self.id)
    }

    /// The bridge's namespace (root labs).
    pub fn bridge_netns(&self) -> Option<String> {
        self.netns.then(|| format!("{}br", self.prefix()))
    }

    /// The deployment file.
    pub fn deployment(&self, dir: &Path, hactl: &Path) -> String {
        let mut t = String::from(
            "# A hactl lab (written by `hactl lab up`).\n\n[controller]\n\
             heartbeat-interval = \"500ms\"\nheartbeat-timeout = \"2s\"\nmode-timeout = \"5s\"\n",
        );
        for (i, s) in self.sites.iter().enumerate() {
            let peer = &self.sites[1 - i].id;
            let _ = write!(
                t,
                "\n[[site]]\nid = \"{}\"\npeer = \"{peer}\"\ncontroller = \"{}\"\noos-check = \"2s\"\noos-force = \"10s\"\n",
                s.id, s.url
            );
        }
        let nic = if self.netns { "sip" } else { "lo" };
        for h in &self.hosts {
            let _ = write!(
                t,
                "\n[[host]]\nid = \"{}\"\nsite = \"{}\"\nnics = [\"{nic}\"]\n",
                h.id, h.site
            );
            if self.netns {
                let _ = writeln!(t, "interfaces = {{ sip = \"{HOST_IF}\" }}");
            }
        }
        for h in &self.hosts {
            let start: Vec<String> = self.start_argv(dir, hactl, h).iter().map(|a| toml_str(a)).collect();
            let _ = write!(
                t,
                "\n[[app]]\nid = \"{}\"\nkind = \"sip-server\"\nhost = \"{}\"\nstart = [{}]\n\
                 restart-delay = \"2s\"\n\
                 probe = {{ kind = \"sip-options\", port = {}, interval = \"500ms\", timeout = \"400ms\", failures = 2 }}\n\
                 backup-check = {{ enabled = false }}\n",
                h.app,
                h.id,
                start.join(", "),
                self.sip_port
            );
        }
        for s in &self.sites {
            let apps: Vec<String> = self
                .hosts
                .iter()
                .filter(|h| h.site == s.id)
                .map(|h| format!("\"{}\"", h.app))
                .collect();
            let _ = write!(t, "\n[[pair]]\nid = \"{}\"\napps = [{}]\n", s.pair, apps.join(", "));
            if let Some(vip) = &s.vip {
                let _ = writeln!(t, "vip = {{ address = \"{vip}/16\", nic = \"sip\" }}");
            }
        }
        t
    }

    /// The argv that starts a host's SIP server (run by its agent, in the foreground).
    fn start_argv(&self, dir: &Path, hactl: &Path, h: &HostPlan) -> Vec<String> {
        let site = self.sites.iter().find(|s| s.id == h.site);
        let vip = site.and_then(|s| s.vip.clone());
        if let Some(k) = &self.kamailio {
            let run = run_dir(dir, &h.id);
            return vec![
                k.clone(),
                "-f".into(),
                run.join("kamailio.cfg").display().to_string(),
                "-P".into(),
                run.join("kamailio.pid").display().to_string(),
                "-Y".into(),
                run.display().to_string(),
                "-DD".into(),
                "-E".into(),
            ];
        }
        let mut argv = vec![hactl.display().to_string(), "sip-responder".into()];
        for ip in std::iter::once(h.ip.clone()).chain(vip) {
            argv.push("--listen".into());
            argv.push(format!("{ip}:{}", self.sip_port));
        }
        argv.extend(["--name".into(), h.id.clone()]);
        argv
    }

    /// Writes every Kamailio configuration (when Kamailio is used).
    pub fn write_kamailio(&self, dir: &Path) -> Result<(), String> {
        if self.kamailio.is_none() {
            return Ok(());
        }
        for h in &self.hosts {
            let run = run_dir(dir, &h.id);
            std::fs::create_dir_all(&run).map_err(|e| format!("cannot create {}: {e}", run.display()))?;
            let vip = self.sites.iter().find(|s| s.id == h.site).and_then(|s| s.vip.clone());
            let mut cfg = format!(
                "#!KAMAILIO\n# A hactl lab's SIP server on {host}: answers OPTIONS with 200.\n\
                 debug=2\nlog_stderror=yes\nchildren=2\nip_free_bind=1\n\
                 server_header=\"Server: kamailio {host}\"\nlisten=udp:{ip}:{port}\n",
                host = h.id,
                ip = h.ip,
                port = self.sip_port
            );
            if let Some(v) = vip {
                let _ = writeln!(cfg, "listen=udp:{v}:{}", self.sip_port);
            }
            cfg.push_str(
                "loadmodule \"sl.so\"\nloadmodule \"textops.so\"\n\nrequest_route {\n\
                 \tif (is_method(\"OPTIONS\")) {\n\t\tsl_send_reply(\"200\", \"OK\");\n\t\texit;\n\t}\n\
                 \tif (is_method(\"ACK\")) {\n\t\texit;\n\t}\n\
                 \tsl_send_reply(\"501\", \"Not Implemented\");\n}\n",
            );
            let path = run.join("kamailio.cfg");
            std::fs::write(&path, cfg).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// Writes `tokens.toml` and `tokens/{viewer,operator,admin,agent-HOST}.token`.
    pub fn write_tokens(&self, dir: &Path) -> Result<(), String> {
        let tdir = dir.join("tokens");
        std::fs::create_dir_all(&tdir).map_err(|e| format!("cannot create {}: {e}", tdir.display()))?;
        let mut toml = String::from("# The lab's tokens (written by `hactl lab up`).\n");
        let mut entries: Vec<(String, String, Option<String>)> = ROLES
            .iter()
            .map(|r| (r.to_string(), format!("lab-{r}"), None))
            .collect();
        for h in &self.hosts {
            entries.push(("agent".into(), format!("agent-{}", h.id), Some(h.id.clone())));
        }
        for (role, name, host) in entries {
            let secret = random_hex(16)?;
            let _ = write!(
                toml,
                "\n[[token]]\nname = \"{name}\"\nrole = \"{role}\"\nsecret = \"{secret}\"\n"
            );
            if let Some(h) = &host {
                let _ = writeln!(toml, "host = \"{h}\"");
            }
            let file = match host {
                Some(h) => agent_token(dir, &h),
                None => role_token(dir, &role),
            };
            write_private(&file, &format!("{secret}\n"))?;
        }
        write_private(&dir.join("tokens.toml"), &toml)
    }
}

/// Where a host's SIP server keeps its configuration and runtime files.
pub fn run_dir(dir: &Path, host: &str) -> PathBuf {
    dir.join("run").join(host)
}

pub fn role_token(dir: &Path, role: &str) -> PathBuf {
    dir.join("tokens").join(format!("{role}.token"))
}

pub fn agent_token(dir: &Path, host: &str) -> PathBuf {
    dir.join("tokens").join(format!("agent-{host}.token"))
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `n` random bytes from /dev/urandom, in hex.
pub fn random_hex(n: usize) -> Result<String, String> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
