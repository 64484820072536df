//! The console's command-line edges: a bad theme is a one-line error naming the file and
//! the key (exit 2, no backtrace), and without a terminal the console says so; `hactl
//! console` names a bad URL, a token file it cannot read or may not trust, a missing
//! token, in one line each, before it touches the terminal.

use std::process::Command;

fn hactl(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hactl")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_theme_file_names_the_file_and_the_key() {
    let dir = std::env::temp_dir().join(format!("hactl-theme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mine.toml");
    std::fs::write(&file, "banner = { fg = \"red\" }\nselected = { bg = \"mauve\" }\n").unwrap();
    let (code, err) = hactl(&["drill", "--theme", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("mine.toml") && err.contains("selected.bg") && err.contains("mauve"),
        "{err}"
    );
    let (code, err) = hactl(&["drill", "--theme", "no-such-theme"]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-theme") && err.contains("high-contrast"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn without_a_terminal_the_console_says_so() {
    let (code, err) = hactl(&["drill"]);
    assert_eq!(code, 2);
    assert!(err.contains("needs a terminal"), "{err}");
}

#[test]
fn the_live_console_names_each_mistake_in_one_line() {
    let dir = std::env::temp_dir().join(format!("hactl-console-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("op.token");
    std::fs::write(&token, "operator-secret-0123456789").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let open = dir.join("open.token");
    std::fs::write(&open, "operator-secret-0123456789").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let t = token.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["console", "--controller", "ftp://x", "--token-file", t], "ftp://x"),
        (
            vec![
                "console",
                "--controller",
                "http://127.0.0.1:1",
                "--token-file",
                "/nonexistent/t",
            ],
            "/nonexistent/t",
        ),
        (
            vec![
                "console",
                "--controller",
                "http://127.0.0.1:1",
                "--token-file",
                open.to_str().unwrap(),
            ],
            "chmod 600",
        ),
        (vec!["console", "--controller", "http://127.0.0.1:1"], "no token"),
        (
            vec![
                "console",
                "--controller",
                "http://127.0.0.1:1",
                "--token-file",
                t,
                "--theme",
                "mauve",
            ],
            "mauve",
        ),
        (
            vec![
                "console",
                "--controller",
                "http://127.0.0.1:1",
                "--token-file",
                t,
                "--bogus",
            ],
            "--bogus",
        ),
        (
            vec!["console", "--controller", "http://127.0.0.1:1", "--token-file", t],
            "needs a terminal",
        ),
    ];
    for (args, want) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_hactl"))
            .args(&args)
            .env_remove("HACTL_TOKEN_FILE")
            .env_remove("HACTL_CONTROLLER")
            .env_remove("HACTL_CONFIG")
            .env_remove("HACTL_CONTEXT")
            .env("HOME", &dir)
            .env("XDG_CONFIG_HOME", &dir)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("operator-secret"), "a token in an error: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
