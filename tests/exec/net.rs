//! Link state, receive counters, VIPs and the gratuitous ARP, inside two network
//! namespaces joined by a veth pair that each test creates and always removes.

use hactl::daemon::exec::net::{Garp, Net, NetError, VipAddr};

use super::harness::{Netns, ip, ip_out};

/// Namespaces `a` and `b` joined by veth `va` (in a) and `vb` (in b), both up, with
/// 10.77.0.1/24 on va and 10.77.0.2/24 on vb; b accepts gratuitous ARP into its cache.
fn two_hosts(test: &str) -> Option<(Netns, Netns)> {
    let a = Netns::create(test)?;
    let b = Netns::create(test)?;
    ip(&[
        "-n", &a.0, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", &b.0,
    ]);
    ip(&["-n", &a.0, "addr", "add", "10.77.0.1/24", "dev", "va"]);
    ip(&["-n", &b.0, "addr", "add", "10.77.0.2/24", "dev", "vb"]);
    ip(&["-n", &a.0, "link", "set", "va", "up"]);
    ip(&["-n", &b.0, "link", "set", "vb", "up"]);
    // Without arp_accept a host only refreshes entries it already has.
    let accept = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &b.0,
            "sh",
            "-c",
            "echo 1 > /proc/sys/net/ipv4/conf/vb/arp_accept",
        ])
        .status();
    assert!(accept.is_ok_and(|s| s.success()), "cannot set arp_accept in {}", b.0);
    Some((a, b))
}

#[tokio::test]
async fn a_vip_is_added_observed_announced_and_removed() {
    let Some((a, b)) = two_hosts("a_vip_is_added_observed_announced_and_removed") else {
        return;
    };
    let net = Net::in_netns(&a.0).unwrap();
    let vip: VipAddr = "10.77.0.10/24".parse().unwrap();
    assert!(!net.vip_bound(&vip, "va").await.unwrap());
    net.add_vip(&vip, "va").await.unwrap();
    assert!(net.vip_bound(&vip, "va").await.unwrap());
    net.add_vip(&vip, "va").await.expect("adding again is success");
    let before = Net::in_netns(&b.0).unwrap().link("vb").await.unwrap().rx_packets;
    assert_eq!(net.gratuitous_arp(&vip, "va").await.unwrap(), Garp::Sent);
    // The peer received it and (with arp_accept) learnt the VIP's MAC from it.
    let mac_a = ip_out(&["-n", &a.0, "-j", "link", "show", "dev", "va"]);
    let mac_a: serde_json::Value = serde_json::from_str(&mac_a).unwrap();
    let mac_a = mac_a[0]["address"].as_str().unwrap().to_string();
    let mut learnt = String::new();
    for _ in 0..50 {
        learnt = ip_out(&["-n", &b.0, "neigh", "show", "10.77.0.10", "dev", "vb"]);
        if learnt.contains(&mac_a) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let after = Net::in_netns(&b.0).unwrap().link("vb").await.unwrap().rx_packets;
    assert!(after > before, "the peer's receive counter moved: {before} -> {after}");
    assert!(
        learnt.contains(&mac_a),
        "b's neighbour table: {learnt:?}, a's MAC {mac_a}"
    );
    net.del_vip(&vip, "va").await.unwrap();
    assert!(!net.vip_bound(&vip, "va").await.unwrap());
    net.del_vip(&vip, "va").await.expect("removing again is success");
}

#[tokio::test]
async fn link_down_and_up_are_seen_on_both_ends() {
    let Some((a, b)) = two_hosts("link_down_and_up_are_seen_on_both_ends") else {
        return;
    };
    let na = Net::in_netns(&a.0).unwrap();
    let nb = Net::in_netns(&b.0).unwrap();
    assert!(na.link("va").await.unwrap().up());
    assert!(nb.link("vb").await.unwrap().up());
    ip(&["-n", &a.0, "link", "set", "va", "down"]);
    let la = na.link("va").await.unwrap();
    assert!(!la.admin_up && !la.up(), "{la:?}");
    let lb = nb.link("vb").await.unwrap();
    assert!(lb.admin_up && !lb.carrier, "the peer loses its carrier: {lb:?}");
    ip(&["-n", &a.0, "link", "set", "va", "up"]);
    assert!(na.link("va").await.unwrap().up());
    assert!(nb.link("vb").await.unwrap().up());
}

#[tokio::test]
async fn missing_interfaces_and_addresses_are_clear_errors() {
    let Some(a) = Netns::create("missing_interfaces_and_addresses_are_clear_errors") else {
        return;
    };
    let net = Net::in_netns(&a.0).unwrap();
    let vip: VipAddr = "10.77.0.10/24".parse().unwrap();
    assert!(matches!(net.link("eth9").await, Err(NetError::NoInterface(i)) if i == "eth9"));
    let e = net.add_vip(&vip, "eth9").await.unwrap_err();
    assert!(e.to_string().contains("eth9"), "{e}");
    let e = net.gratuitous_arp(&vip, "lo").await.unwrap_err();
    assert!(
        e.to_string().contains("10.77.0.10") && e.to_string().contains("lo"),
        "{e}"
    );
    let v6: VipAddr = "fd00::10/64".parse().unwrap();
    assert_eq!(net.gratuitous_arp(&v6, "lo").await.unwrap(), Garp::NotIpv4);
    let gone = Net::in_netns("hactl-test-does-not-exist").unwrap();
    assert!(gone.link("lo").await.is_err());
}

/// The MAC of `ifname` in namespace `ns`, as `ip` prints it.
fn mac_of(ns: &str, ifname: &str) -> String {
    let out = ip_out(&["-n", ns, "-j", "link", "show", "dev", ifname]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v[0]["address"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn another_holder_of_a_vip_is_seen_by_arp_and_no_longer_once_it_lets_go() {
    let Some((a, b)) = two_hosts("another_holder_of_a_vip_is_seen_by_arp_and_no_longer_once_it_lets_go") else {
        return;
    };
    let wait = std::time::Duration::from_millis(300);
    let na = Net::in_netns(&a.0).unwrap();
    let nb = Net::in_netns(&b.0).unwrap();
    let vip: VipAddr = "10.77.0.10/24".parse().unwrap();
    na.add_vip(&vip, "va").await.unwrap();
    // Alone: nobody else answers, and a's own kernel does not answer its own probe.
    assert_eq!(na.arp_probe(&vip, "va", wait).await.unwrap(), None);
    // b takes the address too (its agent lost, say): a sees b's MAC answer.
    nb.add_vip(&vip, "vb").await.unwrap();
    let mac_b = mac_of(&b.0, "vb");
    assert_eq!(na.arp_probe(&vip, "va", wait).await.unwrap(), Some(mac_b));
    // And b sees a.
    let mac_a = mac_of(&a.0, "va");
    assert_eq!(nb.arp_probe(&vip, "vb", wait).await.unwrap(), Some(mac_a));
    nb.del_vip(&vip, "vb").await.unwrap();
    assert_eq!(na.arp_probe(&vip, "va", wait).await.unwrap(), None);
    // An address nobody holds is not answered either; IPv6 is not probed.
    let other: VipAddr = "10.77.0.11/24".parse().unwrap();
    assert_eq!(na.arp_probe(&other, "va", wait).await.unwrap(), None);
    let v6: VipAddr = "fd00::10/64".parse().unwrap();
    assert_eq!(na.arp_probe(&v6, "va", wait).await.unwrap(), None);
    let e = na.arp_probe(&vip, "lo", wait).await.unwrap_err();
    assert!(
        e.to_string().contains("10.77.0.10") && e.to_string().contains("lo"),
        "{e}"
    );
}
