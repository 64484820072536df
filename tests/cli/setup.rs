//! Mistakes before any controller answers: configuration files and contexts, token files,
//! missing or unreachable controllers, TLS without a CA, and the generated completions and
//! manual page. Each mistake is one line and exit 2.

use super::harness::{Dir, OPERATOR};
use super::ops::*;

const DEAD: &str = "http://127.0.0.1:1";

fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    output_within(command(args, env), 30)
}

#[test]
fn contexts_tokens_and_unreachable_controllers_are_one_line_and_exit_2() {
    let dir = Dir::new("cli-setup");
    let d = dir.path();
    let op = token_file(d, "operator", OPERATOR).display().to_string();
    let open = d.join("open.token");
    std::fs::write(&open, format!("{OPERATOR}\n")).unwrap();
    let open = open.display().to_string();

    let bad = d.join("bad.toml");
    std::fs::write(
        &bad,
        "[context.lab]\ncontrollers = [\"http://127.0.0.1:1\"]\ntokenfile = \"x\"\n",
    )
    .unwrap();
    let bad = bad.display().to_string();
    let o = run(&["status"], &[("HACTL_CONFIG", &bad)]);
    assert_code(&o, 2, "a bad configuration file");
    assert_one_line(
        &o,
        &format!("{bad}:3: context.lab.tokenfile: unknown field `tokenfile`"),
    );

    let good = d.join("config.toml");
    std::fs::write(
        &good,
        format!(
            "default-context = \"lab\"\n[context.lab]\ncontrollers = [\"{DEAD}\"]\ntoken-file = \"operator.token\"\n"
        ),
    )
    .unwrap();
    let good = good.display().to_string();
    let o = run(&["status"], &[("HACTL_CONFIG", &good)]);
    assert_code(&o, 2, "the default context's controller is down");
    let out = text(&o.stdout);
    assert!(
        out.contains(DEAD) && out.contains("UNREACHABLE: cannot reach the controller"),
        "{out}"
    );
    let o = run(&["status", "--context", "prod"], &[("HACTL_CONFIG", &good)]);
    assert_code(&o, 2, "an unknown context");
    assert_one_line(&o, &format!("--context: no context `prod` in {good} (known: lab)"));

    let o = run(&["status"], &[]);
    assert_code(&o, 2, "no controller");
    assert_one_line(&o, "no controller named: give --controller URL, set HACTL_CONTROLLER");
    let o = run(&["status", "--controller", DEAD, "--token-file", &open], &[]);
    assert_code(&o, 2, "a token file others may read");
    assert_one_line(&o, "other users may read or write this token file (mode 0644)");
    assert!(!text(&o.stderr).contains(OPERATOR));
    let o = run(&["status", "--token", OPERATOR], &[("HACTL_CONTROLLER", DEAD)]);
    assert_code(&o, 2, "no --token flag: tokens stay out of argv");
    let o = run(
        &["status", "--controller", "https://127.0.0.1:1", "--token-file", &op],
        &[],
    );
    assert_code(&o, 2, "https without a CA");
    assert_one_line(&o, "needs the CA that signed its certificate: give --ca FILE");
    let o = run(
        &[
            "events",
            "--since",
            "42",
            "--controller",
            DEAD,
            "--controller",
            "http://127.0.0.1:2",
        ],
        &[],
    );
    assert_code(&o, 2, "one cursor for two controllers");
    assert_one_line(&o, "give each site's cursor");

    let env = [("HACTL_CONTROLLER", DEAD), ("HACTL_TOKEN_FILE", op.as_str())];
    for args in [
        vec!["switchover", "p", "--yes"],
        vec!["maintenance", "p", "on"],
        vec!["run", "hello", "--host", "h1", "--yes"],
        vec!["events"],
    ] {
        let o = run(&args, &env);
        assert_code(&o, 2, &args.join(" "));
        assert_one_line(&o, &format!("{DEAD}: cannot reach the controller: cannot connect"));
    }
}

#[test]
fn completions_and_the_manual_page_are_generated() {
    let o = run(&["completions", "bash"], &[]);
    assert_code(&o, 0, "bash completions");
    let out = text(&o.stdout);
    assert!(
        out.contains("_hactl") && out.contains("switchover") && out.contains("--token-file"),
        "{out}"
    );
    let o = run(&["completions", "zsh"], &[]);
    assert!(o.status.success() && text(&o.stdout).contains("#compdef hactl"));
    assert_code(&run(&["completions", "tcsh"], &[]), 2, "an unknown shell");
    let o = run(&["man"], &[]);
    assert_code(&o, 0, "man");
    let out = text(&o.stdout);
    assert!(out.starts_with(".ie") || out.contains(".TH hactl"), "{out}");
    assert!(out.contains("switchover") && out.contains("status"), "{out}");
}
