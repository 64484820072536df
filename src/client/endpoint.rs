//! Which controllers to talk to and with what credentials: the connection flags every
//! client command shares ([`ConnectArgs`]: `--controller`, `--context`, `--token-file`,
//! `--ca`), resolved against the environment and the configuration file into
//! [`Endpoint`]s. Order: flags, then `HACTL_CONTROLLER` / `HACTL_CONTEXT` /
//! `HACTL_TOKEN_FILE` / `HACTL_CA`, then the context (named, or the file's
//! `default-context`). A token is read from a file only (never from the command line,
//! where other users see it), into a [`Secret`] that no `Debug` or `Display` shows.

use std::fmt;
use std::path::{Path, PathBuf};

use super::context::{self, Config, Context};
use crate::engine::config::{clip, escape};

/// A bearer token. Shown as `<secret>` by `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    /// The secret itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Reads a token file: one token on one line, in a regular file that other users may
    /// neither read nor write (as ssh does with a private key: a token any local user can
    /// read is everyone's).
    pub fn from_file(path: &Path) -> Result<Secret, String> {
        let name = escape(&path.display().to_string()).into_owned();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(path).map_err(|e| format!("{name}: cannot read the token file: {e}"))?;
            let mode = meta.permissions().mode() & 0o777;
            if meta.is_file() && mode & 0o006 != 0 {
                return Err(format!(
                    "{name}: other users may read or write this token file (mode {mode:04o}); run chmod 600 on it"
                ));
            }
        }
        let secret = crate::daemon::auth::read_secret(path).map_err(|e| {
            if e.starts_with(&path.display().to_string()) {
                escape(&e).into_owned()
            } else {
                format!("{name}: {}", escape(&e))
            }
        })?;
        Ok(Secret(secret))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<secret>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

/// One controller: its base URL, the token to present, the CA to trust for `https://`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    pub token: Option<Secret>,
    pub ca: Option<PathBuf>,
}

impl Endpoint {
    /// A controller at `url` (checked by [`check_url`]), without a token or CA.
    pub fn new(url: &str) -> Result<Endpoint, String> {
        Ok(Endpoint {
            url: check_url(url)?,
            token: None,
            ca: None,
        })
    }
}

/// A controller's base URL: `http://` or `https://`, a host, an optional port and path; no
/// credentials, query or fragment. Returned without a trailing `/`.
pub fn check_url(s: &str) -> Result<String, String> {
    let shown = clip(s, 80);
    let bad = || format!("`{}` is not an http:// or https:// URL", escape(&shown));
    let url = reqwest::Url::parse(s.trim()).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{}`: a URL may not carry credentials; give the token in a file (--token-file)",
            escape(&clip(url.host_str().unwrap_or(""), 80))
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "`{}`: a controller URL has no query or fragment",
            escape(&shown)
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// The connection flags of every command that talks to controllers (the CLI's and the
/// console's).
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectArgs {
    /// A controller's URL (repeat it for each site's controller); default: HACTL_CONTROLLER
    /// (comma-separated), else the context's.
    #[arg(long = "controller", value_name = "URL")]
    pub controllers: Vec<String>,
    /// A context of the configuration file (~/.config/hactl/config.toml); default:
    /// HACTL_CONTEXT, else the file's default-context.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// The file holding your token (mode 600); default: HACTL_TOKEN_FILE, else the context's.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The CA (PEM) that signed the controllers' certificates, for https:// URLs; default:
    /// HACTL_CA, else the context's.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
}

/// Resolved connection settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub endpoints: Vec<Endpoint>,
    /// The context used, if any.
    pub context: Option<String>,
    /// The context's console theme.
    pub theme: Option<String>,
}

impl ConnectArgs {
    /// Resolves the flags against the process environment and the configuration file.
    pub fn resolve(&self) -> Result<Target, String> {
        self.resolve_with(&|k| std::env::var(k).ok())
    }

    /// Resolves the flags against the environment `var` gives and the configuration file
    /// it points at. Every problem is one line naming where the bad value came from.
    pub fn resolve_with(&self, var: &dyn Fn(&str) -> Option<String>) -> Result<Target, String> {
        let config = context::load(var)?;
        let env = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let (ctx_name, ctx_from) = match (&self.context, env("HACTL_CONTEXT")) {
            (Some(n), _) => (Some(n.clone()), "--context"),
            (None, Some(n)) => (Some(n), "HACTL_CONTEXT"),
            (None, None) => (config.default_context.clone(), "default-context"),
        };
        let ctx: Option<&Context> = match &ctx_name {
            None => None,
            Some(n) => Some(
                config
                    .contexts
                    .get(n)
                    .ok_or_else(|| unknown_context(n, ctx_from, &config))?,
            ),
        };
        let urls: Vec<(String, String)> = if !self.controllers.is_empty() {
            self.controllers
                .iter()
                .map(|u| (u.clone(), "--controller".to_string()))
                .collect()
        } else if let Some(list) = env("HACTL_CONTROLLER") {
            list.split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(|u| (u.to_string(), "HACTL_CONTROLLER".to_string()))
                .collect()
        } else if let Some(c) = ctx {
            c.controllers
                .iter()
                .map(|u| (u.clone(), format!("context {}", c.name)))
                .collect()
        } else {
            return Err(no_controller(&config));
        };
        let mut checked: Vec<String> = Vec::new();
        for (u, from) in urls {
            let url = check_url(&u).map_err(|e| format!("{from}: {e}"))?;
            if !checked.contains(&url) {
                checked.push(url);
            }
        }
        if checked.is_empty() {
            return Err(no_controller(&config));
        }
        let pick = |flag: &Option<PathBuf>, var_name: &str, of_ctx: Option<&PathBuf>| -> Option<(PathBuf, String)> {
            flag.as_ref()
                .map(|p| (p.clone(), flag_name(var_name)))
                .or_else(|| env(var_name).map(|p| (PathBuf::from(p), var_name.to_string())))
                .or_else(|| ctx.and_then(|c| of_ctx.map(|p| (p.clone(), format!("context {} ({})", c.name, c.place)))))
        };
        let token = match pick(
            &self.token_file,
            "HACTL_TOKEN_FILE",
            ctx.and_then(|c| c.token_file.as_ref()),
        ) {
            None => None,
            Some((path, from)) => Some(Secret::from_file(&path).map_err(|e| format!("{from}: {e}"))?),
        };
        let ca = match pick(&self.ca, "HACTL_CA", ctx.and_then(|c| c.ca.as_ref())) {
            None => None,
            Some((path, from)) => {
                if !path.is_file() {
                    return Err(format!(
                        "{from}: {}: no such CA file",
                        escape(&path.display().to_string())
                    ));
                }
                Some(path)
            }
        };
        Ok(Target {
            endpoints: checked
                .into_iter()
                .map(|url| Endpoint {
                    url,
                    token: token.clone(),
                    ca: ca.clone(),
                })
                .collect(),
            context: ctx.map(|c| c.name.clone()),
            theme: ctx.and_then(|c| c.theme.clone()),
        })
    }
}

fn flag_name(var_name: &str) -> String {
    match var_name {
        "HACTL_TOKEN_FILE" => "--token-file".into(),
        _ => "--ca".into(),
    }
}

fn config_name(config: &Config) -> String {
    config.file.as_ref().map_or("~/.config/hactl/config.toml".into(), |f| {
        escape(&f.display().to_string()).into_owned()
    })
}

fn unknown_context(name: &str, from: &str, config: &Config) -> String {
    match &config.file {
        None => format!(
            "{from}: no context `{}`: there is no configuration file (~/.config/hactl/config.toml, or HACTL_CONFIG)",
            escape(&clip(name, 60))
        ),
        Some(_) => format!(
            "{from}: no context `{}` in {} (known: {})",
            escape(&clip(name, 60)),
            config_name(config),
            context::known(&config.contexts)
        ),
    }
}

fn no_controller(config: &Config) -> String {
    format!(
        "no controller named: give --controller URL, set HACTL_CONTROLLER=URL[,URL...], or name a context (--context NAME, HACTL_CONTEXT, or default-context in {})",
        config_name(config)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_a_secret_is_never_shown() {
        assert_eq!(check_url("http://127.0.0.1:7400/").unwrap(), "http://127.0.0.1:7400");
        assert_eq!(
            check_url("https://ctl.example:7400/hactl/").unwrap(),
            "https://ctl.example:7400/hactl"
        );
        for bad in [
            "127.0.0.1:7400",
            "ftp://x",
            "http://",
            "http://x/?a=1",
            "http://x/#f",
            "",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        let e = check_url("http://alice:hunter2hunter2@x:1").unwrap_err();
        assert!(!e.contains("hunter2") && e.contains("credentials"), "{e}");
        let s = Secret::new("hunter2hunter2");
        assert_eq!(format!("{s} {s:?}"), "<secret> Secret(<secret>)");
        let ep = Endpoint {
            token: Some(s),
            ..Endpoint::new("http://x:1").unwrap()
        };
        assert!(!format!("{ep:?}").contains("hunter2"));
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hactl-endpoint-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn token(dir: &Path, name: &str, secret: &str, mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, format!("{secret}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_context() {
        let d = scratch("order");
        token(&d, "ctx.token", "context-secret-0123456789", 0o600);
        let env_token = token(&d, "env.token", "env-secret-0123456789", 0o640);
        let flag_token = token(&d, "flag.token", "flag-secret-0123456789", 0o600);
        let cfg = d.join("config.toml");
        std::fs::write(
            &cfg,
            "default-context = \"east\"\n[context.east]\ncontrollers = [\"http://10.0.0.1:7400\"]\ntoken-file = \"ctx.token\"\ntheme = \"dark\"\n\
             [context.west]\ncontrollers = [\"http://10.0.0.2:7400\", \"http://10.0.0.3:7400\"]\n",
        )
        .unwrap();
        let cfg_s = cfg.display().to_string();
        let env_token_s = env_token.display().to_string();
        let vars = |extra: Vec<(&'static str, String)>| {
            let mut all = vec![("HACTL_CONFIG", cfg_s.clone())];
            all.extend(extra);
            move |k: &str| all.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        };
        let none = ConnectArgs::default();
        let t = none.resolve_with(&vars(vec![])).unwrap();
        assert_eq!(t.context.as_deref(), Some("east"));
        assert_eq!(t.theme.as_deref(), Some("dark"));
        assert_eq!(t.endpoints[0].url, "http://10.0.0.1:7400");
        assert_eq!(
            t.endpoints[0].token.as_ref().unwrap().expose(),
            "context-secret-0123456789"
        );

        let env = vars(vec![
            ("HACTL_CONTEXT", "west".into()),
            ("HACTL_TOKEN_FILE", env_token_s.clone()),
        ]);
        let t = none.resolve_with(&env).unwrap();
        let urls: Vec<&str> = t.endpoints.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(urls, ["http://10.0.0.2:7400", "http://10.0.0.3:7400"]);
        assert_eq!(t.endpoints[1].token.as_ref().unwrap().expose(), "env-secret-0123456789");

        let env = vars(vec![
            ("HACTL_CONTROLLER", "http://a:1, http://b:2".into()),
            ("HACTL_TOKEN_FILE", env_token_s),
        ]);
        let flags = ConnectArgs {
            controllers: vec!["http://c:3".into()],
            context: Some("east".into()),
            token_file: Some(flag_token),
            ca: None,
        };
        let t = flags.resolve_with(&env).unwrap();
        assert_eq!(t.endpoints.len(), 1);
        assert_eq!(t.endpoints[0].url, "http://c:3");
        assert_eq!(
            t.endpoints[0].token.as_ref().unwrap().expose(),
            "flag-secret-0123456789"
        );
        let t = none.resolve_with(&env).unwrap();
        assert_eq!(
            t.endpoints.iter().map(|e| e.url.as_str()).collect::<Vec<_>>(),
            ["http://a:1", "http://b:2"]
        );

        let e = ConnectArgs {
            context: Some("north".into()),
            ..ConnectArgs::default()
        }
        .resolve_with(&vars(vec![]))
        .unwrap_err();
        assert!(
            e.starts_with("--context: no context `north` in ") && e.ends_with("(known: east, west)"),
            "{e}"
        );
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn a_token_file_others_may_read_is_refused_and_nothing_named_is_explained() {
        let d = scratch("perm");
        let open = token(&d, "open.token", "open-secret-0123456789", 0o644);
        let args = ConnectArgs {
            controllers: vec!["http://x:1".into()],
            token_file: Some(open.clone()),
            ..ConnectArgs::default()
        };
        let nothing = |_: &str| None;
        let e = args.resolve_with(&nothing).unwrap_err();
        assert!(
            e.contains("other users may read or write") && e.contains("chmod 600"),
            "{e}"
        );
        assert!(e.starts_with("--token-file: "), "{e}");
        assert!(!e.contains("open-secret"), "{e}");
        let e = ConnectArgs::default().resolve_with(&nothing).unwrap_err();
        assert!(e.starts_with("no controller named: give --controller URL"), "{e}");
        let e = ConnectArgs {
            controllers: vec!["localhost:7400".into()],
            ..ConnectArgs::default()
        }
        .resolve_with(&nothing)
        .unwrap_err();
        assert_eq!(e, "--controller: `localhost:7400` is not an http:// or https:// URL");
        std::fs::remove_dir_all(&d).ok();
    }
}
