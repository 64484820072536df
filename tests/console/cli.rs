//! The console's command-line edges: a bad theme is a one-line error naming the file and
//! the key (exit 2, no backtrace), and without a terminal the console says so.

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
