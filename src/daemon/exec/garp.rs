//! ARP done by the agent itself on an AF_PACKET socket, with no external tool (only
//! CAP_NET_RAW):
//! - a gratuitous ARP: one broadcast request whose sender and target address are both the
//!   VIP, from the interface's MAC (the form `arping -U` sends);
//! - a probe for another holder of an address this host holds: a broadcast request in the
//!   form of duplicate address detection (RFC 5227: sender address 0.0.0.0, target the VIP,
//!   the form `arping -D` sends), which every other machine that has the address answers
//!   (Linux does, whatever its `arp_ignore` between 0 and 2), while this host's own kernel
//!   never sees it. Any reply, or announcement, for the VIP from another hardware address
//!   within the wait is another holder.
//!
//! For a named network namespace the socket is opened by a short-lived thread that first
//! joins the namespace (`setns` changes only the calling thread, and the socket stays in the
//! namespace it was created in), so the agent's own threads never change namespace.

use std::ffi::CString;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Sends the announcement for `ip` on `ifname`, in `netns` if given.
pub(super) async fn send(netns: Option<&str>, ifname: &str, ip: Ipv4Addr) -> Result<(), String> {
    on_thread(netns, ifname, move |sock| {
        let f = frame(sock.mac, ARP_REQUEST, ip, ip);
        sock.send(&f)
    })
    .await
}

/// Asks who else has `ip` on `ifname` and waits `wait` for answers: the hardware address of
/// the first other machine that answers, or `None`.
pub(super) async fn probe(
    netns: Option<&str>,
    ifname: &str,
    ip: Ipv4Addr,
    wait: std::time::Duration,
) -> Result<Option<[u8; 6]>, String> {
    on_thread(netns, ifname, move |sock| {
        sock.bind()?;
        let f = frame(sock.mac, ARP_REQUEST, Ipv4Addr::UNSPECIFIED, ip);
        sock.send(&f)?;
        let deadline = std::time::Instant::now() + wait;
        let mut buf = [0u8; 128];
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let Some(n) = sock.recv(&mut buf, left)? else {
                return Ok(None);
            };
            if let Some(mac) = other_holder(&buf[..n], ip, sock.mac) {
                return Ok(Some(mac));
            }
        }
    })
    .await
}

/// A hardware address as people write it.
pub(super) fn mac_string(mac: [u8; 6]) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

const ARP_REQUEST: u16 = 1;
const ARP_REPLY: u16 = 2;

/// The sender's hardware address of an ARP frame that claims `ip` from another machine
/// than `own`: a reply for it, or an announcement of it.
fn other_holder(f: &[u8], ip: Ipv4Addr, own: [u8; 6]) -> Option<[u8; 6]> {
    if f.len() < 42 || f[12..14] != [0x08, 0x06] || f[16..18] != [0x08, 0x00] || f[18] != 6 || f[19] != 4 {
        return None;
    }
    let op = u16::from_be_bytes([f[20], f[21]]);
    let sha: [u8; 6] = f[22..28].try_into().ok()?;
    let spa = Ipv4Addr::new(f[28], f[29], f[30], f[31]);
    ((op == ARP_REPLY || op == ARP_REQUEST) && spa == ip && sha != own).then_some(sha)
}

/// Runs `f` with a packet socket on `ifname`, on a short-lived thread that joins `netns`
/// first when given.
async fn on_thread<T: Send + 'static>(
    netns: Option<&str>,
    ifname: &str,
    f: impl FnOnce(&ArpSocket) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let ns_path = netns.map(|n| format!("/run/netns/{n}"));
    let ifname = ifname.to_string();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("hactl-arp".into())
        .spawn(move || {
            let _ = tx.send(ArpSocket::open(ns_path.as_deref(), &ifname).and_then(|s| f(&s)));
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    rx.await
        .unwrap_or_else(|_| Err("the ARP thread ended without a result".into()))
}

fn os_err(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

/// A packet socket for ARP frames on one interface.
struct ArpSocket {
    fd: OwnedFd,
    ifindex: i32,
    mac: [u8; 6],
}

impl ArpSocket {
    fn open(ns_path: Option<&str>, ifname: &str) -> Result<ArpSocket, String> {
        if let Some(path) = ns_path {
            let ns = std::fs::File::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
            // SAFETY: setns with a valid descriptor; it changes this (short-lived) thread only.
            if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(os_err(&format!("cannot enter the network namespace {path}")));
            }
        }
        // SAFETY: plain socket creation; the result is checked.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, i32::from(proto())) };
        if raw < 0 {
            return Err(os_err("cannot open a packet socket (needs CAP_NET_RAW)"));
        }
        // SAFETY: `raw` was just returned by socket() and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let cname = CString::new(ifname).map_err(|_| "interface name with a NUL".to_string())?;
        // SAFETY: a valid C string.
        let ifindex = unsafe { libc::if_nametoindex(cname.as_ptr()) };
        if ifindex == 0 {
            return Err("no such interface".into());
        }
        let mac = hw_address(&fd, ifname)?;
        Ok(ArpSocket {
            fd,
            ifindex: ifindex as i32,
            mac,
        })
    }

    fn address(&self, to: [u8; 6]) -> libc::sockaddr_ll {
        // SAFETY: sockaddr_ll is plain data; zeroed is a valid value.
        let mut a: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        a.sll_family = libc::AF_PACKET as u16;
        a.sll_protocol = proto();
        a.sll_ifindex = self.ifindex;
        a.sll_halen = 6;
        a.sll_addr[..6].copy_from_slice(&to);
        a
    }

    /// Receives only this interface's ARP frames from now on.
    fn bind(&self) -> Result<(), String> {
        let a = self.address([0; 6]);
        // SAFETY: the address is valid for the length given.
        let r = unsafe {
            libc::bind(
                self.fd.as_raw_fd(),
                (&a as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if r != 0 {
            return Err(os_err("cannot bind the packet socket to the interface"));
        }
        Ok(())
    }

    fn send(&self, frame: &[u8]) -> Result<(), String> {
        let to = self.address([0xff; 6]);
        // SAFETY: the buffer and the address are valid for the lengths given.
        let sent = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&to as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if sent < 0 {
            return Err(os_err("cannot send"));
        }
        Ok(())
    }

    /// One frame, or `None` when none came within `wait`.
    fn recv(&self, buf: &mut [u8], wait: std::time::Duration) -> Result<Option<usize>, String> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = i32::try_from(wait.as_millis().max(1)).unwrap_or(i32::MAX);
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            return if e.kind() == std::io::ErrorKind::Interrupted {
                Ok(Some(0))
            } else {
                Err(format!("cannot wait for ARP answers: {e}"))
            };
        }
        if r == 0 {
            return Ok(None);
        }
        // SAFETY: the buffer is valid for its length.
        let n = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(os_err("cannot read an ARP answer"));
        }
        Ok(Some(n as usize))
    }
}

fn proto() -> u16 {
    (libc::ETH_P_ARP as u16).to_be()
}

/// The interface's Ethernet address; an error for interfaces without one (loopback).
fn hw_address(sock: &OwnedFd, ifname: &str) -> Result<[u8; 6], String> {
    // SAFETY: ifreq is plain data; zeroed is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(ifname.bytes().take(libc::IFNAMSIZ - 1)) {
        *dst = src as libc::c_char;
    }
    // SAFETY: SIOCGIFHWADDR fills the ifreq we own.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFHWADDR, &mut req) } != 0 {
        return Err(os_err("cannot read the interface's hardware address"));
    }
    // SAFETY: after SIOCGIFHWADDR the union holds a sockaddr.
    let hw = unsafe { req.ifr_ifru.ifru_hwaddr };
    if hw.sa_family != libc::ARPHRD_ETHER {
        return Err(format!("not an Ethernet interface (hardware type {})", hw.sa_family));
    }
    let mut mac = [0u8; 6];
    for (m, b) in mac.iter_mut().zip(hw.sa_data.iter()) {
        *m = *b as u8;
    }
    Ok(mac)
}

/// A 60-byte Ethernet frame (padded to the minimum) of a broadcast ARP request from `mac`
/// with sender address `spa`, asking for `tpa`.
fn frame(mac: [u8; 6], op: u16, spa: Ipv4Addr, tpa: Ipv4Addr) -> [u8; 60] {
    let mut f = [0u8; 60];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // IPv4
    f[18] = 6;
    f[19] = 4;
    f[20..22].copy_from_slice(&op.to_be_bytes());
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&spa.octets());
    f[38..42].copy_from_slice(&tpa.octets());
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_announces_the_address_from_the_mac() {
        let mac = [2, 0, 0, 0, 0, 9];
        let ip = Ipv4Addr::new(10, 1, 0, 10);
        let f = frame(mac, ARP_REQUEST, ip, ip);
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[6..12], &mac);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[20..22], &[0, 1]);
        assert_eq!(&f[22..28], &mac);
        assert_eq!(&f[28..32], &[10, 1, 0, 10]);
        assert_eq!(&f[32..38], &[0; 6]);
        assert_eq!(&f[38..42], &[10, 1, 0, 10]);
    }

    #[test]
    fn the_probe_asks_from_no_address_like_duplicate_address_detection() {
        let mac = [2, 0, 0, 0, 0, 9];
        let f = frame(mac, ARP_REQUEST, Ipv4Addr::UNSPECIFIED, Ipv4Addr::new(10, 1, 0, 10));
        assert_eq!(&f[28..32], &[0; 4], "sender address 0.0.0.0");
        assert_eq!(&f[38..42], &[10, 1, 0, 10]);
    }

    #[test]
    fn only_another_machine_claiming_the_address_is_a_holder() {
        let own = [2, 0, 0, 0, 0, 1];
        let other = [2, 0, 0, 0, 0, 2];
        let vip = Ipv4Addr::new(10, 1, 0, 10);
        let reply = frame(other, ARP_REPLY, vip, Ipv4Addr::UNSPECIFIED);
        assert_eq!(other_holder(&reply, vip, own), Some(other));
        let announcement = frame(other, ARP_REQUEST, vip, vip);
        assert_eq!(other_holder(&announcement, vip, own), Some(other));
        // Our own probe and announcement, seen on the way out.
        assert_eq!(other_holder(&frame(own, ARP_REQUEST, vip, vip), vip, own), None);
        // Another machine's probe (sender 0.0.0.0) or a client asking for the VIP.
        assert_eq!(
            other_holder(&frame(other, ARP_REQUEST, Ipv4Addr::UNSPECIFIED, vip), vip, own),
            None
        );
        let client = frame(other, ARP_REQUEST, Ipv4Addr::new(10, 1, 0, 99), vip);
        assert_eq!(other_holder(&client, vip, own), None);
        // Another address, a short frame, not ARP.
        assert_eq!(
            other_holder(&frame(other, ARP_REPLY, Ipv4Addr::new(10, 1, 0, 11), vip), vip, own),
            None
        );
        assert_eq!(other_holder(&reply[..30], vip, own), None);
        let mut ip_frame = reply;
        ip_frame[12..14].copy_from_slice(&[0x08, 0x00]);
        assert_eq!(other_holder(&ip_frame, vip, own), None);
    }

    #[test]
    fn hardware_addresses_are_written_in_lower_case_hex_with_colons() {
        assert_eq!(mac_string([2, 0xab, 0, 0, 0x10, 9]), "02:ab:00:00:10:09");
    }
}
