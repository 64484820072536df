//! Starting a daemon wrong: every mistake in a flag, a deployment file, a tokens file or a
//! token file is one line naming it, exit code 2, never a panic.

use super::harness::*;

/// Every mistake starting a daemon is one line naming the flag or file, exit code 2.
#[test]
fn daemon_flag_and_file_mistakes_are_one_line_and_exit_2() {
    let dir = Dir::new("flags");
    let d = dir.path();
    let deploy = d.join("deploy.toml");
    let deploy = deploy.to_str().unwrap();
    std::fs::write(d.join("short.token"), "x y").unwrap();
    std::fs::write(
        d.join("bad-tokens.toml"),
        "[[token]]\nname = \"a\"\nrole = \"god\"\nsecret = \"0123456789abcdef0\"\n",
    )
    .unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "controller".into(),
                "--config".into(),
                deploy.into(),
                "--site".into(),
                "mars".into(),
            ],
            "--site: `mars` is not a site",
        ),
        (
            vec![
                "controller".into(),
                "--config".into(),
                "/nonexistent/deploy.toml".into(),
                "--site".into(),
                "east".into(),
            ],
            "/nonexistent/deploy.toml: cannot read",
        ),
        (
            vec![
                "controller".into(),
                "--config".into(),
                deploy.into(),
                "--site".into(),
                "east".into(),
                "--tokens".into(),
                d.join("bad-tokens.toml").to_str().unwrap().into(),
                "--data".into(),
                d.to_str().unwrap().into(),
            ],
            "token[0].role: `god` is not viewer, operator, admin or agent",
        ),
        (
            vec![
                "controller".into(),
                "--config".into(),
                deploy.into(),
                "--site".into(),
                "east".into(),
                "--retention-days".into(),
                "0".into(),
            ],
            "--retention-days",
        ),
        (
            vec![
                "agent".into(),
                "--config".into(),
                deploy.into(),
                "--host".into(),
                "h9".into(),
            ],
            "--host: `h9` is not a host",
        ),
        (
            vec![
                "agent".into(),
                "--config".into(),
                deploy.into(),
                "--host".into(),
                "h1".into(),
                "--controller".into(),
                "http://127.0.0.1:9".into(),
                "--token-file".into(),
                d.join("short.token").to_str().unwrap().into(),
            ],
            "one token on one line",
        ),
        (
            vec![
                "agent".into(),
                "--config".into(),
                deploy.into(),
                "--host".into(),
                "h1".into(),
            ],
            "no controller to connect to",
        ),
    ];
    for (args, want) in cases {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hactl"))
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.contains(want), "{args:?}: `{want}` not in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
