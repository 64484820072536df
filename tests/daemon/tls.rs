//! TLS on the controller's listener: an HTTPS client that trusts the CA is served, one that
//! does not is refused, plain HTTP gets no answer; real agents with `--ca` link over WSS
//! and the pair they run becomes OK; an agent without `--ca` for an https URL is told so.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};

use super::agent::topology;
use super::harness::*;

/// A CA and a certificate for 127.0.0.1 signed by it, written as PEM files in `dir`.
fn certificates(dir: &std::path::Path) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_and_the_agent_link_run_over_tls() {
    let port = 20_000 + (std::process::id() % 20_000) as u16 + 1;
    let _leftovers = Leftovers(format!(":{port} --name"));
    let dir = Dir::with_topology("tls", &topology(port));
    let d = dir.path();
    certificates(d);
    let (cert, key, ca) = (d.join("cert.pem"), d.join("key.pem"), d.join("ca.pem"));
    let c = Controller::start_with(
        d,
        "127.0.0.1:0",
        &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
    );
    assert!(c.url.starts_with("https://"), "{}", c.url);
    let u = c.url.clone();
    let pem = std::fs::read(&ca).unwrap();
    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let mut ok = false;
    for _ in 0..50 {
        if let Ok(r) = trusting.get(format!("{u}/readyz")).send().await
            && r.status().is_success()
        {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ok, "the controller answers over TLS");
    assert!(
        client().get(format!("{u}/healthz")).send().await.is_err(),
        "an unknown CA is refused"
    );
    let plain = u.replacen("https://", "http://", 1);
    assert!(
        client().get(format!("{plain}/healthz")).send().await.is_err(),
        "plain HTTP gets no answer on a TLS listener"
    );

    let ca_s = ca.to_str().unwrap();
    let _a1 = AgentProc::start_with(d, &u, "h1", "127.0.0.11", &["--ca", ca_s]);
    let _a2 = AgentProc::start_with(d, &u, "h2", "127.0.0.12", &["--ca", ca_s]);
    let mut redundancy = String::new();
    for _ in 0..200 {
        let r = trusting
            .get(format!("{u}/v1/snapshot"))
            .bearer_auth(VIEWER)
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = r.json().await.unwrap();
        redundancy = v["pairs"][0]["redundancy"].as_str().unwrap_or_default().to_string();
        if redundancy == "ok" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(redundancy, "ok", "agents linked over WSS run the pair");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hactl"))
        .args(["agent", "--config"])
        .arg(d.join("deploy.toml"))
        .args(["--host", "h1", "--controller", &u, "--token-file"])
        .arg(d.join("agent.token"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--ca FILE is needed"), "{err}");
}
