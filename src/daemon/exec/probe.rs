//! Health probes, one attempt each, bounded by the probe's timeout:
//! - `tcp`: a connect to the port succeeds in time;
//! - `sip-options`: an OPTIONS request over UDP, retransmitted per RFC 3261 timer E (T1 =
//!   500 ms, doubling up to T2 = 4 s, and every T2 after a provisional answer) until the
//!   timeout; any final response (200..=699) counts as alive, as Kamailio and OpenSIPS
//!   answer OPTIONS, a provisional one does not, and an ICMP port unreachable fails at once;
//! - `exec`: the probe's command (argv, no shell) exits 0 in time.
//!
//! Counting consecutive failures against `failures` is the agent core's business.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpStream, UdpSocket};
use tokio::time::Instant;

use super::command::{self, Exit, Output, Status};
use super::sip::{self, Message, Transaction};
use crate::engine::{Probe, ProbeKind};

/// RFC 3261 T1: the first retransmission interval.
pub const T1: Duration = Duration::from_millis(500);
/// RFC 3261 T2: the longest retransmission interval of a non-INVITE request.
pub const T2: Duration = Duration::from_secs(4);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeResult {
    pub alive: bool,
    pub elapsed: Duration,
    /// What was seen, for a report: `200 OK from 127.0.0.1:5060`, `no answer in 2s`...
    pub detail: String,
    /// The SIP status of the answer that decided (the last provisional one if none was
    /// final).
    pub status: Option<u16>,
    /// Requests sent (SIP: the first and its retransmissions).
    pub sent: u32,
}

impl ProbeResult {
    fn new(alive: bool, started: Instant, detail: String) -> ProbeResult {
        ProbeResult {
            alive,
            elapsed: started.elapsed(),
            detail,
            status: None,
            sent: 1,
        }
    }
}

/// Runs `probe` once against `ip` (the probe's port on it, for `tcp` and `sip-options`).
pub async fn run(probe: &Probe, ip: IpAddr) -> ProbeResult {
    let timeout = Duration::from_millis(probe.timeout.as_ms());
    let target = SocketAddr::new(ip, probe.port);
    match probe.kind {
        ProbeKind::Tcp => tcp(target, timeout).await,
        ProbeKind::SipOptions => sip_options(target, timeout).await,
        ProbeKind::Exec => exec(&probe.command, timeout).await,
    }
}

/// Alive when a TCP connection to `target` is established within `timeout`.
pub async fn tcp(target: SocketAddr, timeout: Duration) -> ProbeResult {
    let started = Instant::now();
    match tokio::time::timeout(timeout, TcpStream::connect(target)).await {
        Ok(Ok(_)) => ProbeResult::new(true, started, format!("connected to {target}")),
        Ok(Err(e)) => ProbeResult::new(false, started, format!("cannot connect to {target}: {e}")),
        Err(_) => ProbeResult::new(false, started, format!("no connection to {target} in {timeout:?}")),
    }
}

/// Alive when `target` gives a final answer to an OPTIONS request within `timeout`.
pub async fn sip_options(target: SocketAddr, timeout: Duration) -> ProbeResult {
    let started = Instant::now();
    let fail = |detail: String, sent: u32, status: Option<u16>| ProbeResult {
        alive: false,
        elapsed: started.elapsed(),
        detail,
        status,
        sent,
    };
    let bind: SocketAddr = if target.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = match UdpSocket::bind(bind).await {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot open a UDP socket: {e}"), 0, None),
    };
    if let Err(e) = sock.connect(target).await {
        return fail(format!("cannot reach {target}: {e}"), 0, None);
    }
    let local = sock.local_addr().unwrap_or(bind);
    let t = Transaction::new();
    let request = sip::options_request(&t, local, target);
    let deadline = started + timeout;
    let mut interval = T1;
    let mut next_send = started;
    let mut sent = 0u32;
    let mut provisional: Option<u16> = None;
    let mut buf = vec![0u8; 65536];
    loop {
        let now = Instant::now();
        if now >= deadline {
            let detail = match provisional {
                Some(p) => format!("only a provisional {p} from {target} in {timeout:?} ({sent} requests)"),
                None => format!("no answer from {target} in {timeout:?} ({sent} requests)"),
            };
            return fail(detail, sent, provisional);
        }
        if now >= next_send {
            if let Err(e) = sock.send(request.as_bytes()).await {
                return fail(format!("cannot send to {target}: {e}"), sent, provisional);
            }
            sent += 1;
            next_send = now + interval;
            interval = (interval * 2).min(T2);
        }
        tokio::select! {
            r = sock.recv(&mut buf) => match r {
                Ok(n) => {
                    let Some(m) = Message::parse(&buf[..n]).filter(|m| m.answers(&t)) else { continue };
                    let Some(code) = m.status() else { continue };
                    if code >= 200 {
                        let reason = m.start.splitn(3, ' ').nth(2).unwrap_or("").to_string();
                        return ProbeResult {
                            alive: true,
                            elapsed: started.elapsed(),
                            detail: format!("{code} {reason} from {target}").trim_end().to_string(),
                            status: Some(code),
                            sent,
                        };
                    }
                    // RFC 3261 17.1.2.2: after a provisional answer, retransmit every T2.
                    provisional = Some(code);
                    interval = T2;
                }
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    return fail(format!("{target} is unreachable (nothing listens on the port)"), sent, provisional);
                }
                Err(e) => return fail(format!("cannot receive from {target}: {e}"), sent, provisional),
            },
            _ = tokio::time::sleep_until(next_send.min(deadline)) => {}
        }
    }
}

/// Alive when `argv` exits 0 within `timeout` (its process group is killed after that).
pub async fn exec(argv: &[String], timeout: Duration) -> ProbeResult {
    let started = Instant::now();
    let program = argv.first().map_or("", String::as_str);
    match command::run(argv, &[], timeout, Output { lines: None, tail: 1 }).await {
        Ok(o) => match o.status {
            Status::Exited(Exit::Code(0)) => ProbeResult::new(true, started, format!("`{program}` exited 0")),
            Status::Exited(e) => {
                let last = o.tail.last().map(|l| format!(": {}", l.text)).unwrap_or_default();
                ProbeResult::new(false, started, format!("`{program}` {e}{last}"))
            }
            Status::TimedOut => ProbeResult::new(false, started, format!("`{program}` still ran after {timeout:?}")),
        },
        Err(e) => ProbeResult::new(false, started, e.to_string()),
    }
}
