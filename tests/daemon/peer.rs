//! Two sites' controllers probe each other at the URLs the deployment file names: the link
//! is in service while both run; kill -9 one, and the other declares the link out of
//! service after `oos-force` (HC-1700) and enters single-site mode (HC-1702); restart it,
//! and the link is in service again (HC-1701).

use std::process::Command;

use super::harness::*;

fn topology(east: u16, west: u16) -> String {
    format!(
        r#"
[controller]
heartbeat-interval = "200ms"
heartbeat-timeout = "1s"

[[site]]
id = "east"
peer = "west"
oos-check = "200ms"
oos-force = "1500ms"
controller = "http://127.0.0.1:{east}"

[[site]]
id = "west"
peer = "east"
oos-check = "200ms"
oos-force = "1500ms"
controller = "http://127.0.0.1:{west}"

[[host]]
id = "h1"
site = "east"
nics = ["mgmt"]

[[host]]
id = "h2"
site = "west"
nics = ["mgmt"]
"#
    )
}

fn start(dir: &std::path::Path, site: &str) -> Controller {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hactl"));
    cmd.args(["controller", "--config"])
        .arg(dir.join("deploy.toml"))
        .args(["--site", site, "--data"])
        .arg(dir.join(site))
        .arg("--tokens")
        .arg(dir.join("tokens.toml"));
    Controller::spawn(cmd)
}

async fn link_state(url: &str) -> String {
    let (_, v) = get(url, "/v1/snapshot", Some(VIEWER)).await;
    v["sites"][0]["link"]["state"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_peer_site_goes_out_of_service_and_comes_back() {
    let base = 30_000 + (std::process::id() % 10_000) as u16 * 2;
    let dir = Dir::with_topology("peer", &topology(base, base + 1));
    let east = start(dir.path(), "east");
    let mut west = start(dir.path(), "west");
    let (e, w) = (east.url.clone(), west.url.clone());
    until(10, "both ready", || async {
        get(&e, "/readyz", None).await.0 == 200 && get(&w, "/readyz", None).await.0 == 200
    })
    .await;
    until(10, "east sees the link in service", || async {
        link_state(&e).await == "in-service"
    })
    .await;

    west.kill9();
    until(10, "east declares the link out of service", || async {
        link_state(&e).await == "out-of-service"
    })
    .await;
    let ids: Vec<String> = all_events(&e)
        .await
        .iter()
        .filter_map(|v| v["id"].as_str().map(String::from))
        .collect();
    assert!(ids.iter().any(|i| i == "HC-1700"), "{ids:?}");
    assert!(ids.iter().any(|i| i == "HC-1702"), "{ids:?}");

    let _west = start(dir.path(), "west");
    until(10, "the link in service again", || async {
        link_state(&e).await == "in-service"
    })
    .await;
    let ids: Vec<String> = all_events(&e)
        .await
        .iter()
        .filter_map(|v| v["id"].as_str().map(String::from))
        .collect();
    assert!(ids.iter().any(|i| i == "HC-1701"), "{ids:?}");
}
