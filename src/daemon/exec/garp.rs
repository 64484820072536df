//! A gratuitous ARP sent by the agent itself: one broadcast ARP request whose sender and
//! target address are both the VIP, from the interface's MAC, on an AF_PACKET socket (the
//! form `arping -U` sends). No external tool is needed, only CAP_NET_RAW. For a named
//! network namespace the socket is opened by a short-lived thread that first joins the
//! namespace (`setns` changes only the calling thread, and the socket stays in the
//! namespace it was created in), so the agent's own threads never change namespace.

use std::ffi::CString;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Sends the announcement for `ip` on `ifname`, in `netns` if given.
pub(super) async fn send(netns: Option<&str>, ifname: &str, ip: Ipv4Addr) -> Result<(), String> {
    let ns_path = netns.map(|n| format!("/run/netns/{n}"));
    let ifname = ifname.to_string();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("hactl-garp".into())
        .spawn(move || {
            let _ = tx.send(send_blocking(ns_path.as_deref(), &ifname, ip));
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    rx.await
        .unwrap_or_else(|_| Err("the sending thread ended without a result".into()))
}

fn os_err(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

fn send_blocking(ns_path: Option<&str>, ifname: &str, ip: Ipv4Addr) -> Result<(), String> {
    if let Some(path) = ns_path {
        let ns = std::fs::File::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
        // SAFETY: setns with a valid descriptor; it changes this (short-lived) thread only.
        if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(os_err(&format!("cannot enter the network namespace {path}")));
        }
    }
    let proto = (libc::ETH_P_ARP as u16).to_be();
    // SAFETY: plain socket creation; the result is checked.
    let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, i32::from(proto)) };
    if raw < 0 {
        return Err(os_err("cannot open a packet socket (needs CAP_NET_RAW)"));
    }
    // SAFETY: `raw` was just returned by socket() and is owned by nobody else.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    let cname = CString::new(ifname).map_err(|_| "interface name with a NUL".to_string())?;
    // SAFETY: a valid C string.
    let ifindex = unsafe { libc::if_nametoindex(cname.as_ptr()) };
    if ifindex == 0 {
        return Err("no such interface".into());
    }
    let mac = hw_address(&sock, ifname)?;
    let frame = frame(mac, ip);
    // SAFETY: sockaddr_ll is plain data; zeroed is a valid value.
    let mut to: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    to.sll_family = libc::AF_PACKET as u16;
    to.sll_protocol = proto;
    to.sll_ifindex = ifindex as i32;
    to.sll_halen = 6;
    to.sll_addr[..6].copy_from_slice(&[0xff; 6]);
    // SAFETY: the buffer and the address are valid for the lengths given.
    let sent = unsafe {
        libc::sendto(
            sock.as_raw_fd(),
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

/// The 60-byte Ethernet frame (padded to the minimum) of a gratuitous ARP request.
fn frame(mac: [u8; 6], ip: Ipv4Addr) -> [u8; 60] {
    let mut f = [0u8; 60];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // IPv4
    f[18] = 6;
    f[19] = 4;
    f[20..22].copy_from_slice(&1u16.to_be_bytes()); // request
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&ip.octets());
    f[38..42].copy_from_slice(&ip.octets());
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_announces_the_address_from_the_mac() {
        let mac = [2, 0, 0, 0, 0, 9];
        let f = frame(mac, Ipv4Addr::new(10, 1, 0, 10));
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[6..12], &mac);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[20..22], &[0, 1]);
        assert_eq!(&f[22..28], &mac);
        assert_eq!(&f[28..32], &[10, 1, 0, 10]);
        assert_eq!(&f[32..38], &[0; 6]);
        assert_eq!(&f[38..42], &[10, 1, 0, 10]);
    }
}
