//! Just enough SIP (RFC 3261) for health checks: an OPTIONS request with a fresh
//! transaction (Via branch `z9hG4bK...`, From tag, Call-ID, CSeq, Max-Forwards), a
//! response matched to it by the top Via's branch, the Call-ID and the CSeq method, and a
//! request parsed far enough to answer it. Compact header names (`v`, `i`, `f`, `t`, `l`)
//! and folded lines are understood; anything malformed is `None`, never a panic.

use std::fmt::Write as _;
use std::net::SocketAddr;

/// RFC 3261's magic cookie that starts every branch of a compliant transaction.
pub const BRANCH_COOKIE: &str = "z9hG4bK";

/// The identifiers of one OPTIONS transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    pub branch: String,
    pub call_id: String,
    pub from_tag: String,
    pub cseq: u32,
}

impl Transaction {
    pub fn new() -> Transaction {
        Transaction {
            branch: format!("{BRANCH_COOKIE}{}", random_hex(8)),
            call_id: random_hex(12),
            from_tag: random_hex(4),
            cseq: 1,
        }
    }
}

impl Default for Transaction {
    fn default() -> Self {
        Transaction::new()
    }
}

/// `host:port` as a SIP URI writes it (IPv6 in brackets).
pub fn hostport(a: SocketAddr) -> String {
    match a {
        SocketAddr::V4(v) => format!("{}:{}", v.ip(), v.port()),
        SocketAddr::V6(v) => format!("[{}]:{}", v.ip(), v.port()),
    }
}

/// The OPTIONS request of `t` from `local` to `target`, over UDP.
pub fn options_request(t: &Transaction, local: SocketAddr, target: SocketAddr) -> String {
    let (l, r) = (hostport(local), hostport(target));
    let mut m = String::with_capacity(400);
    let _ = write!(
        m,
        "OPTIONS sip:{r} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {l};branch={branch};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:hactl@{l}>;tag={tag}\r\n\
         To: <sip:{r}>\r\n\
         Call-ID: {call}\r\n\
         CSeq: {cseq} OPTIONS\r\n\
         Contact: <sip:hactl@{l}>\r\n\
         Accept: application/sdp\r\n\
         User-Agent: hactl-probe\r\n\
         Content-Length: 0\r\n\r\n",
        branch = t.branch,
        tag = t.from_tag,
        call = t.call_id,
        cseq = t.cseq,
    );
    m
}

/// A parsed SIP message: its first line and its headers, names lower-cased and compact
/// forms expanded, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub start: String,
    pub headers: Vec<(String, String)>,
}

impl Message {
    pub fn parse(bytes: &[u8]) -> Option<Message> {
        let text = std::str::from_utf8(bytes).ok()?;
        let head = text.split("\r\n\r\n").next()?;
        let mut lines = head.split('\n').map(|l| l.trim_end_matches('\r'));
        let start = lines.next()?.trim().to_string();
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                // A folded line continues the previous header.
                let (_, v) = headers.last_mut()?;
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':')?;
            let name = match name.trim().to_ascii_lowercase().as_str() {
                "v" => "via".to_string(),
                "i" => "call-id".to_string(),
                "f" => "from".to_string(),
                "t" => "to".to_string(),
                "l" => "content-length".to_string(),
                "m" => "contact".to_string(),
                n => n.to_string(),
            };
            headers.push((name, value.trim().to_string()));
        }
        Some(Message { start, headers })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// A response's status code (`SIP/2.0 200 OK` → 200).
    pub fn status(&self) -> Option<u16> {
        let mut parts = self.start.split_whitespace();
        if parts.next()? != "SIP/2.0" {
            return None;
        }
        parts.next()?.parse().ok().filter(|c| (100..700).contains(c))
    }

    /// A request's method (`OPTIONS sip:x SIP/2.0` → `OPTIONS`).
    pub fn method(&self) -> Option<&str> {
        let mut parts = self.start.split_whitespace();
        let method = parts.next()?;
        parts.next()?;
        (parts.next()? == "SIP/2.0").then_some(method)
    }

    /// The branch parameter of the top Via.
    pub fn top_branch(&self) -> Option<&str> {
        let top = self.header("via")?.split(',').next()?;
        top.split(';').skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim().eq_ignore_ascii_case("branch").then(|| v.trim())
        })
    }

    /// Whether this is a response to transaction `t` of an OPTIONS request.
    pub fn answers(&self, t: &Transaction) -> bool {
        let cseq_ok = self.header("cseq").is_some_and(|c| {
            let mut p = c.split_whitespace();
            p.next() == Some(&t.cseq.to_string()) && p.next().is_some_and(|m| m.eq_ignore_ascii_case("OPTIONS"))
        });
        self.status().is_some()
            && self.top_branch() == Some(t.branch.as_str())
            && self.header("call-id") == Some(t.call_id.as_str())
            && cseq_ok
    }
}

/// `n` random bytes as hex, from the kernel's generator (falls back to time and pid
/// mixing if it is unavailable; these are identifiers, not secrets).
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    // SAFETY: the buffer is valid for `n` bytes.
    let got = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), n, 0) };
    if got != n as isize {
        let mut x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ (u64::from(std::process::id()) << 32);
        for b in &mut buf {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
    buf.iter().fold(String::with_capacity(2 * n), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_has_every_mandatory_header_and_a_compliant_branch() {
        let t = Transaction::new();
        assert!(t.branch.starts_with("z9hG4bK") && t.branch.len() > 7 + 8);
        let local: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let target: SocketAddr = "[::1]:5060".parse().unwrap();
        let req = options_request(&t, local, target);
        let m = Message::parse(req.as_bytes()).unwrap();
        assert_eq!(m.method(), Some("OPTIONS"));
        assert!(m.start.contains("sip:[::1]:5060"));
        for h in ["via", "max-forwards", "from", "to", "call-id", "cseq", "content-length"] {
            assert!(m.header(h).is_some(), "{h}");
        }
        assert_eq!(m.top_branch(), Some(t.branch.as_str()));
        assert!(m.header("from").unwrap().contains(&t.from_tag));
    }

    #[test]
    fn a_response_is_matched_by_branch_call_id_and_cseq() {
        let t = Transaction {
            branch: "z9hG4bKabc".into(),
            call_id: "c1".into(),
            from_tag: "f".into(),
            cseq: 1,
        };
        let ok = "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP 1.2.3.4:5;rport=5;BRANCH=z9hG4bKabc,SIP/2.0/UDP x;branch=o\r\n\
                  i: c1\r\nCSeq: 1 OPTIONS\r\n\r\n";
        let m = Message::parse(ok.as_bytes()).unwrap();
        assert_eq!(m.status(), Some(200));
        assert!(m.answers(&t));
        let other = ok.replace("z9hG4bKabc", "z9hG4bKzzz");
        assert!(!Message::parse(other.as_bytes()).unwrap().answers(&t));
        let other = ok.replace("1 OPTIONS", "1 INVITE");
        assert!(!Message::parse(other.as_bytes()).unwrap().answers(&t));
    }

    #[test]
    fn garbage_is_not_a_message() {
        for bad in [
            &b""[..],
            b"\xff\xfe",
            b"SIP/2.0 abc OK\r\n\r\n",
            b" folded first\r\n x\r\n",
            b"SIP/2.0 200 OK\r\nnocolon\r\n",
        ] {
            let m = Message::parse(bad);
            assert!(m.as_ref().is_none_or(|m| m.status().is_none()), "{bad:?} {m:?}");
        }
    }
}
