//! The host's network as the agent sees it and changes it, optionally inside a named
//! network namespace (for `hactl lab` and tests):
//! - link state (administratively up and carrier) and the receive counter of an
//!   interface: from /sys/class/net/IF (no process per poll) on the host, from
//!   `ip -n NS -j -s link show dev IF` in a namespace;
//! - VIPs: `ip [-n NS] addr add|del ADDR/PREFIX dev IF` (IPv6 with `nodad`, usable at once),
//!   idempotent (an address already there, or already gone, is success: checked by looking,
//!   since the wording of the kernel's refusal varies), and observed with
//!   `ip [-n NS] -j addr show dev IF`;
//! - a gratuitous ARP for an IPv4 VIP, sent by the agent itself (see [`super::garp`]).
//!
//! `ip` is run with an argv (never a shell) and a 5 s bound; every error names the
//! interface, the address and the command. A NIC of the configuration is the kernel
//! interface its host's `interfaces` maps it to ([`interface_for`]).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use super::garp;
use crate::engine::Host;

/// How long one `ip` command may take.
const IP_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("invalid interface name `{0}`")]
    BadInterface(String),
    #[error("invalid network namespace name `{0}`")]
    BadNetns(String),
    #[error("invalid address `{0}` (expected an IPv4 or IPv6 address with an optional /prefix)")]
    BadAddress(String),
    #[error("no interface `{0}`")]
    NoInterface(String),
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("gratuitous ARP for {address} on `{interface}`: {detail}")]
    Garp {
        address: IpAddr,
        interface: String,
        detail: String,
    },
    #[error("ARP probe for {address} on `{interface}`: {detail}")]
    ArpProbe {
        address: IpAddr,
        interface: String,
        detail: String,
    },
}

/// An interface's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// Set up by the administrator (`IFF_UP`).
    pub admin_up: bool,
    /// The lower layer is up (a cable, a peer of a veth; always on for dummy and lo).
    pub carrier: bool,
    pub rx_packets: u64,
}

impl Link {
    /// Usable: up and with a carrier.
    pub fn up(&self) -> bool {
        self.admin_up && self.carrier
    }
}

/// A VIP's address and prefix length (`/32` or `/128` when the configuration gives none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VipAddr {
    pub ip: IpAddr,
    pub prefix: u8,
}

impl FromStr for VipAddr {
    type Err = NetError;
    fn from_str(s: &str) -> Result<VipAddr, NetError> {
        let bad = || NetError::BadAddress(s.escape_debug().to_string());
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                (ip, Some(p.parse::<u8>().map_err(|_| bad())?))
            }
            Some(_) => return Err(bad()),
            None => (s, None),
        };
        let ip: IpAddr = ip.parse().map_err(|_| bad())?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(VipAddr { ip, prefix })
    }
}

impl fmt::Display for VipAddr {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}/{}", self.ip, self.prefix)
    }
}

/// What a gratuitous ARP came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Garp {
    Sent,
    /// IPv6 has no ARP; neighbours learn the address from the kernel's unsolicited
    /// neighbour advertisement when `ndisc_notify` is on.
    NotIpv4,
}

/// The kernel interface of NIC `nic` (an index into the host's NICs) on `host`, as the
/// host's `interfaces` maps it (the NIC's own name by default).
pub fn interface_for(host: &Host, nic: usize) -> Option<&str> {
    host.interfaces
        .get(nic)
        .or_else(|| host.nics.get(nic))
        .map(String::as_str)
}

/// The network of the host, or of one network namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Net {
    netns: Option<String>,
}

impl Net {
    /// The agent's own network namespace.
    pub fn host() -> Net {
        Net { netns: None }
    }

    /// The namespace `name` (as `ip netns` names it, under /run/netns).
    pub fn in_netns(name: &str) -> Result<Net, NetError> {
        if !plain_name(name, 64) {
            return Err(NetError::BadNetns(name.escape_debug().to_string()));
        }
        Ok(Net {
            netns: Some(name.to_string()),
        })
    }

    pub fn netns(&self) -> Option<&str> {
        self.netns.as_deref()
    }

    /// Link state and receive counter of `ifname`.
    pub async fn link(&self, ifname: &str) -> Result<Link, NetError> {
        check_if(ifname)?;
        if self.netns.is_none() {
            return link_from_sys(ifname);
        }
        let out = self.ip(&["-j", "-s", "link", "show", "dev", ifname]).await?;
        let v: serde_json::Value = serde_json::from_str(&out).map_err(|e| NetError::Command {
            command: self.render(&["-j", "-s", "link", "show", "dev", ifname]),
            detail: format!("unreadable JSON: {e}"),
        })?;
        let l = v.get(0).ok_or_else(|| NetError::NoInterface(ifname.to_string()))?;
        let flags: Vec<&str> = l["flags"]
            .as_array()
            .map(|a| a.iter().filter_map(|f| f.as_str()).collect())
            .unwrap_or_default();
        let rx = l["stats64"]["rx"]["packets"]
            .as_u64()
            .or_else(|| l["stats"]["rx"]["packets"].as_u64())
            .unwrap_or(0);
        Ok(Link {
            admin_up: flags.contains(&"UP"),
            carrier: flags.contains(&"LOWER_UP"),
            rx_packets: rx,
        })
    }

    /// Binds `vip` to `ifname`; success if it already is.
    pub async fn add_vip(&self, vip: &VipAddr, ifname: &str) -> Result<(), NetError> {
        check_if(ifname)?;
        let addr = vip.to_string();
        let mut args = vec!["addr", "add", addr.as_str(), "dev", ifname];
        if vip.ip.is_ipv6() {
            args.push("nodad");
        }
        match self.ip(&args).await {
            Ok(_) => Ok(()),
            // Kernels word "already there" differently (`File exists`, `Address already
            // assigned`): look instead of parsing.
            Err(e) if matches!(e, NetError::Command { .. }) && self.vip_bound(vip, ifname).await? => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Removes `vip` from `ifname`; success if it is not there.
    pub async fn del_vip(&self, vip: &VipAddr, ifname: &str) -> Result<(), NetError> {
        check_if(ifname)?;
        let addr = vip.to_string();
        match self.ip(&["addr", "del", addr.as_str(), "dev", ifname]).await {
            Ok(_) => Ok(()),
            Err(e) if matches!(e, NetError::Command { .. }) && !self.vip_bound(vip, ifname).await? => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Whether `vip`'s address is bound to `ifname` here (any prefix length).
    pub async fn vip_bound(&self, vip: &VipAddr, ifname: &str) -> Result<bool, NetError> {
        check_if(ifname)?;
        let args = ["-j", "addr", "show", "dev", ifname];
        let out = self.ip(&args).await?;
        let v: serde_json::Value = serde_json::from_str(&out).map_err(|e| NetError::Command {
            command: self.render(&args),
            detail: format!("unreadable JSON: {e}"),
        })?;
        let bound = v
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|l| l["addr_info"].as_array().into_iter().flatten())
            .filter_map(|a| a["local"].as_str()?.parse::<IpAddr>().ok())
            .any(|ip| ip == vip.ip);
        Ok(bound)
    }

    /// Announces `vip` on `ifname` with one gratuitous ARP request (broadcast, sender and
    /// target address both the VIP), so that neighbours update their caches at once.
    pub async fn gratuitous_arp(&self, vip: &VipAddr, ifname: &str) -> Result<Garp, NetError> {
        check_if(ifname)?;
        let IpAddr::V4(v4) = vip.ip else {
            return Ok(Garp::NotIpv4);
        };
        garp::send(self.netns.as_deref(), ifname, v4)
            .await
            .map(|()| Garp::Sent)
            .map_err(|detail| NetError::Garp {
                address: vip.ip,
                interface: ifname.to_string(),
                detail,
            })
    }

    /// Whether another machine answers ARP for `vip` on `ifname` (asked as duplicate
    /// address detection asks, waiting `wait`): its hardware address, or `None`. Only
    /// meaningful while `vip` is bound here; an IPv6 VIP is not probed (`None`).
    pub async fn arp_probe(&self, vip: &VipAddr, ifname: &str, wait: Duration) -> Result<Option<String>, NetError> {
        check_if(ifname)?;
        let IpAddr::V4(v4) = vip.ip else {
            return Ok(None);
        };
        garp::probe(self.netns.as_deref(), ifname, v4, wait)
            .await
            .map(|mac| mac.map(garp::mac_string))
            .map_err(|detail| NetError::ArpProbe {
                address: vip.ip,
                interface: ifname.to_string(),
                detail,
            })
    }

    fn argv(&self, args: &[&str]) -> Vec<String> {
        let mut v = Vec::with_capacity(args.len() + 2);
        if let Some(ns) = &self.netns {
            v.push("-n".to_string());
            v.push(ns.clone());
        }
        v.extend(args.iter().map(|s| s.to_string()));
        v
    }

    fn render(&self, args: &[&str]) -> String {
        format!("ip {}", self.argv(args).join(" "))
    }

    /// Runs `ip [-n NS] ARGS`, returning its stdout.
    async fn ip(&self, args: &[&str]) -> Result<String, NetError> {
        let command = self.render(args);
        let run = tokio::process::Command::new(ip_program())
            .args(self.argv(args))
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        let out = match tokio::time::timeout(IP_TIMEOUT, run).await {
            Err(_) => {
                return Err(NetError::Command {
                    command,
                    detail: format!("no answer in {IP_TIMEOUT:?}"),
                });
            }
            Ok(Err(e)) => {
                return Err(NetError::Command {
                    command,
                    detail: format!("cannot run it: {e}"),
                });
            }
            Ok(Ok(o)) => o,
        };
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        let err = String::from_utf8_lossy(&out.stderr);
        let detail = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
        if detail.contains("does not exist")
            && let Some(i) = args.iter().position(|a| *a == "dev")
        {
            return Err(NetError::NoInterface(args.get(i + 1).unwrap_or(&"").to_string()));
        }
        Err(NetError::Command {
            command,
            detail: format!("{} ({})", detail.chars().take(200).collect::<String>(), out.status),
        })
    }
}

/// `ip` from the usual system directories, so that `PATH` cannot substitute another.
pub(crate) fn ip_program() -> &'static str {
    ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("ip")
}

fn link_from_sys(ifname: &str) -> Result<Link, NetError> {
    let base = format!("/sys/class/net/{ifname}");
    let read = |file: &str| {
        let path = format!("{base}/{file}");
        std::fs::read_to_string(&path)
            .map(|s| s.trim().to_string())
            .map_err(|source| {
                if source.kind() == std::io::ErrorKind::NotFound {
                    NetError::NoInterface(ifname.to_string())
                } else {
                    NetError::Read { path, source }
                }
            })
    };
    let flags = read("flags")?;
    let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).unwrap_or(0);
    // Reading `carrier` of an interface that is down fails with EINVAL: no carrier.
    let carrier = matches!(read("carrier"), Ok(c) if c == "1");
    let rx_packets = read("statistics/rx_packets")?.parse().unwrap_or(0);
    Ok(Link {
        admin_up: flags & libc::IFF_UP as u32 != 0,
        carrier,
        rx_packets,
    })
}

/// A name of letters, digits, `.`, `_`, `-`, starting with a letter or digit.
fn plain_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

fn check_if(ifname: &str) -> Result<(), NetError> {
    if plain_name(ifname, 15) {
        Ok(())
    } else {
        Err(NetError::BadInterface(ifname.escape_debug().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vip_addresses_parse_with_and_without_prefix() {
        let v: VipAddr = "10.1.0.10/24".parse().unwrap();
        assert_eq!(v.to_string(), "10.1.0.10/24");
        assert_eq!("10.1.0.10".parse::<VipAddr>().unwrap().prefix, 32);
        assert_eq!("fd00::5".parse::<VipAddr>().unwrap().to_string(), "fd00::5/128");
        for bad in [
            "",
            "10.1.0.10/",
            "10.1.0.10/33",
            "10.1.0.10/+4",
            "x/24",
            "-dev",
            "10.1.0.10/24 dev lo",
        ] {
            assert!(bad.parse::<VipAddr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn names_that_could_be_options_or_paths_are_refused() {
        for bad in ["", "-n", "../x", "a/b", "eth0 up", "sixteen-chars-xx"] {
            assert!(check_if(bad).is_err(), "{bad}");
        }
        assert!(check_if("eth0.100").is_ok());
        assert!(Net::in_netns("-x").is_err());
        assert!(Net::in_netns("hactl-test-1").is_ok());
    }

    #[test]
    fn a_nic_maps_to_its_hosts_interface() {
        let host = Host {
            id: "h1".into(),
            site: crate::engine::SiteIx(0),
            nics: vec!["mgmt".into(), "sip".into()],
            management_nic: 0,
            interfaces: vec!["mgmt".into(), "veth-h1".into()],
            apps: vec![],
        };
        assert_eq!(interface_for(&host, 1), Some("veth-h1"));
        assert_eq!(interface_for(&host, 2), None);
    }

    #[tokio::test]
    async fn loopback_is_up_and_counts_packets() {
        let l = Net::host().link("lo").await.unwrap();
        assert!(l.up(), "{l:?}");
        assert!(matches!(
            Net::host().link("nosuchif0").await,
            Err(NetError::NoInterface(_))
        ));
    }
}
