//! A tiny SIP responder over UDP, for labs without Kamailio and for tests: it answers
//! OPTIONS with `200 OK` (or another chosen status), copying the Via, From, To, Call-ID and
//! CSeq headers as RFC 3261 requires, adding a To tag and a `Server: hactl-responder NAME`
//! header that tells a client which host answered. Other requests get `501 Not
//! Implemented`; ACKs, responses and garbage get nothing.

use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use super::sip::{self, Message};

/// A responder serving on a socket until dropped.
#[derive(Debug)]
pub struct SipResponder {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl SipResponder {
    /// Answers OPTIONS sent to `addr` with 200 OK naming `name`.
    pub async fn bind(addr: SocketAddr, name: &str) -> io::Result<SipResponder> {
        SipResponder::bind_with_status(addr, name, 200).await
    }

    /// Answers OPTIONS with `status` (100..=699); a provisional status makes a responder
    /// that never gives a final answer.
    pub async fn bind_with_status(addr: SocketAddr, name: &str, status: u16) -> io::Result<SipResponder> {
        let sock = UdpSocket::bind(addr).await?;
        let addr = sock.local_addr()?;
        let name = name.to_string();
        let task = tokio::spawn(async move {
            let _ = serve(sock, &name, status).await;
        });
        Ok(SipResponder { addr, task })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for SipResponder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `sock` forever (returns only on a socket error other than a refused send).
pub async fn serve(sock: UdpSocket, name: &str, status: u16) -> io::Result<()> {
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, from) = match sock.recv_from(&mut buf).await {
            Ok(x) => x,
            // An ICMP error for an earlier answer; keep serving.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => continue,
            Err(e) => return Err(e),
        };
        if let Some(reply) = answer(&buf[..n], name, status) {
            let _ = sock.send_to(&reply, from).await;
        }
    }
}

/// The response to one datagram, if it deserves one.
pub fn answer(request: &[u8], name: &str, status: u16) -> Option<Vec<u8>> {
    let m = Message::parse(request)?;
    let method = m.method()?;
    if method.eq_ignore_ascii_case("ACK") {
        return None;
    }
    let (code, reason) = if method.eq_ignore_ascii_case("OPTIONS") {
        let code = if (100..700).contains(&status) { status } else { 200 };
        (code, reason_phrase(code))
    } else {
        (501, "Not Implemented")
    };
    let mut out = format!("SIP/2.0 {code} {reason}\r\n");
    for (h, v) in &m.headers {
        if h == "via" {
            let _ = write!(out, "Via: {v}\r\n");
        }
    }
    let from = m.header("from")?;
    let to = m.header("to")?;
    let call_id = m.header("call-id")?;
    let cseq = m.header("cseq")?;
    let _ = write!(out, "From: {from}\r\n");
    if to.to_ascii_lowercase().contains(";tag=") || code < 200 {
        let _ = write!(out, "To: {to}\r\n");
    } else {
        let _ = write!(out, "To: {to};tag={}\r\n", sip::random_hex(4));
    }
    let _ = write!(out, "Call-ID: {call_id}\r\nCSeq: {cseq}\r\n");
    if code == 200 {
        out.push_str("Allow: OPTIONS\r\nAccept: application/sdp\r\n");
    }
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(64)
        .collect();
    let _ = write!(out, "Server: hactl-responder {name}\r\nContent-Length: 0\r\n\r\n");
    Some(out.into_bytes())
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        403 => "Forbidden",
        404 => "Not Found",
        480 => "Temporarily Unavailable",
        486 => "Busy Here",
        500 => "Server Internal Error",
        503 => "Service Unavailable",
        c if c < 200 => "Provisional",
        c if c < 300 => "Success",
        _ => "Failure",
    }
}

/// `hactl sip-responder`: answers OPTIONS on every address of `addrs` until killed (a
/// stand-in SIP server for `hactl lab` and the daemons' tests when Kamailio is not
/// installed). Each answer leaves from the address it was sent to, so a client connected
/// to a VIP gets it: the lab listens on the host's own address and on the VIP (bound before
/// the VIP is there, which needs `net.ipv4.ip_nonlocal_bind`).
pub fn run_forever(addrs: &[SocketAddr], name: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(async {
        let mut tasks = Vec::new();
        for &addr in addrs {
            let sock = UdpSocket::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            let name = name.to_string();
            tasks.push(tokio::spawn(async move {
                serve(sock, &name, 200).await.map_err(|e| format!("{addr}: {e}"))
            }));
        }
        let (first, _, _) = futures_util::future::select_all(tasks).await;
        first.map_err(|e| format!("responder task: {e}"))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::exec::sip::Transaction;

    #[test]
    fn options_get_200_with_the_headers_copied_and_the_host_named() {
        let t = Transaction::new();
        let req = sip::options_request(&t, "127.0.0.1:4000".parse().unwrap(), "127.0.0.1:5060".parse().unwrap());
        let reply = answer(req.as_bytes(), "host-a\r\nX: injected", 200).unwrap();
        let m = Message::parse(&reply).unwrap();
        assert_eq!(m.status(), Some(200));
        assert!(m.answers(&t));
        assert!(m.header("to").unwrap().contains(";tag="));
        assert_eq!(m.header("server"), Some("hactl-responder host-aX: injected"));
        assert!(m.header("x").is_none());
    }

    #[test]
    fn acks_and_garbage_get_nothing_and_other_methods_501() {
        assert!(
            answer(
                b"ACK sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n\r\n",
                "h",
                200
            )
            .is_none()
        );
        assert!(answer(b"\x00\x01garbage", "h", 200).is_none());
        assert!(answer(b"SIP/2.0 200 OK\r\n\r\n", "h", 200).is_none());
        let inv = "INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a>;tag=1\r\n\
                   To: <sip:x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n";
        let m = Message::parse(&answer(inv.as_bytes(), "h", 200).unwrap()).unwrap();
        assert_eq!(m.status(), Some(501));
    }
}
