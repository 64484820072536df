//! The command line's own configuration file, `~/.config/hactl/config.toml` (or
//! `$XDG_CONFIG_HOME/hactl/config.toml`, or the file `HACTL_CONFIG` names): named
//! deployments ("contexts") so an operator types `--context prod` instead of every
//! controller's URL, the token file and the CA.
//!
//! ```toml
//! default-context = "prod"
//!
//! [context.prod]
//! controllers = ["https://10.0.0.5:7400", "https://10.1.0.5:7400"]
//! token-file = "~/.config/hactl/prod.token"
//! ca = "/etc/hactl/ca.pem"
//! theme = "dark"
//! ```
//!
//! Read in two stages, like the deployment file: serde structs that refuse unknown keys,
//! then checks; every problem is one line, `FILE:LINE: field: what is wrong`. Relative
//! paths are relative to the file's directory; `~/` is the home directory.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::engine::config::{clip, escape, field_at};

/// The largest configuration file read.
const MAX_CONFIG: u64 = 1 << 20;

/// One named deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    pub name: String,
    /// Controller base URLs, checked ([`super::check_url`]).
    pub controllers: Vec<String>,
    pub token_file: Option<PathBuf>,
    pub ca: Option<PathBuf>,
    pub theme: Option<String>,
    /// `FILE:LINE` of its table, for messages.
    pub place: String,
}

/// The configuration file, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// The file it was read from (none: there is no file).
    pub file: Option<PathBuf>,
    pub default_context: Option<String>,
    pub contexts: BTreeMap<String, Context>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    default_context: Option<Spanned<String>>,
    #[serde(default)]
    context: BTreeMap<String, Spanned<RawContext>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawContext {
    #[serde(default)]
    controllers: Vec<Spanned<String>>,
    token_file: Option<Spanned<String>>,
    ca: Option<Spanned<String>>,
    theme: Option<Spanned<String>>,
}

/// Where the configuration file is: `HACTL_CONFIG` (which must exist), else
/// `$XDG_CONFIG_HOME/hactl/config.toml`, else `$HOME/.config/hactl/config.toml`.
/// Returns the path and whether it was named explicitly.
pub fn config_path(var: &dyn Fn(&str) -> Option<String>) -> Option<(PathBuf, bool)> {
    if let Some(p) = var("HACTL_CONFIG").filter(|p| !p.is_empty()) {
        return Some((PathBuf::from(p), true));
    }
    if let Some(x) = var("XDG_CONFIG_HOME").filter(|p| Path::new(p).is_absolute()) {
        return Some((Path::new(&x).join("hactl/config.toml"), false));
    }
    let home = var("HOME").filter(|h| !h.is_empty())?;
    Some((Path::new(&home).join(".config/hactl/config.toml"), false))
}

/// Reads the configuration file of [`config_path`]. A missing file that was not named
/// explicitly is an empty configuration.
pub fn load(var: &dyn Fn(&str) -> Option<String>) -> Result<Config, String> {
    let Some((path, explicit)) = config_path(var) else {
        return Ok(Config::default());
    };
    let name = path.display().to_string();
    if !explicit && !path.exists() {
        return Ok(Config::default());
    }
    let bytes = crate::input::read_file(&path, MAX_CONFIG).map_err(|e| {
        let how = if explicit { " (HACTL_CONFIG)" } else { "" };
        format!("{}{how}: {e}", escape(&name))
    })?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", escape(&name)))?;
    let home = var("HOME");
    parse(&text, &path, home.as_deref())
}

/// Parses and checks a configuration file's text; `path` names it (and anchors relative
/// paths), `home` expands `~/`.
pub fn parse(text: &str, path: &Path, home: Option<&str>) -> Result<Config, String> {
    let name = escape(&path.display().to_string()).into_owned();
    let line = |span: &Range<usize>| text[..span.start.min(text.len())].matches('\n').count() + 1;
    let err = |span: Range<usize>, field: &str, problem: &str| format!("{name}:{}: {field}: {problem}", line(&span));
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().lines().collect::<Vec<_>>().join("; ");
        err(span.clone(), &field_at(text, span), &message)
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let file_path = |v: &Spanned<String>, field: &str| -> Result<PathBuf, String> {
        let s = v.get_ref();
        if s.is_empty() {
            return Err(err(v.span(), field, "empty path"));
        }
        let p = match (s.strip_prefix("~/"), home) {
            (Some(rest), Some(h)) => Path::new(h).join(rest),
            (Some(_), None) => return Err(err(v.span(), field, "`~/` needs HOME to be set")),
            (None, _) => base.join(s),
        };
        Ok(p)
    };
    let mut contexts = BTreeMap::new();
    for (cname, raw_ctx) in &raw.context {
        let here = format!("context.{}", clip(cname, 60));
        let ctx = raw_ctx.get_ref();
        if ctx.controllers.is_empty() {
            return Err(err(
                raw_ctx.span(),
                &format!("{here}.controllers"),
                "a context needs at least one controller URL",
            ));
        }
        let mut controllers: Vec<String> = Vec::new();
        for (i, u) in ctx.controllers.iter().enumerate() {
            let url =
                super::check_url(u.get_ref()).map_err(|p| err(u.span(), &format!("{here}.controllers[{i}]"), &p))?;
            if !controllers.contains(&url) {
                controllers.push(url);
            }
        }
        let token_file = ctx
            .token_file
            .as_ref()
            .map(|v| file_path(v, &format!("{here}.token-file")))
            .transpose()?;
        let ca = ctx
            .ca
            .as_ref()
            .map(|v| file_path(v, &format!("{here}.ca")))
            .transpose()?;
        let theme = ctx.theme.as_ref().map(|t| t.get_ref().clone());
        contexts.insert(
            cname.clone(),
            Context {
                name: cname.clone(),
                controllers,
                token_file,
                ca,
                theme,
                place: format!("{name}:{}", line(&raw_ctx.span())),
            },
        );
    }
    let default_context = match &raw.default_context {
        None => None,
        Some(d) if contexts.contains_key(d.get_ref()) => Some(d.get_ref().clone()),
        Some(d) => {
            return Err(err(
                d.span(),
                "default-context",
                &format!(
                    "no context `{}` in this file (known: {})",
                    clip(d.get_ref(), 60),
                    known(&contexts)
                ),
            ));
        }
    };
    Ok(Config {
        file: Some(path.to_path_buf()),
        default_context,
        contexts,
    })
}

/// The names of the contexts, for messages.
pub fn known(contexts: &BTreeMap<String, Context>) -> String {
    if contexts.is_empty() {
        return "none".into();
    }
    contexts
        .keys()
        .map(|k| clip(k, 40).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Config, String> {
        parse(text, Path::new("/etc/hactl/config.toml"), Some("/home/op"))
    }

    #[test]
    fn contexts_read_with_paths_anchored() {
        let c = p(r#"
default-context = "prod"
[context.prod]
controllers = ["https://10.0.0.5:7400/", "https://10.1.0.5:7400", "https://10.0.0.5:7400"]
token-file = "~/prod.token"
ca = "ca.pem"
theme = "dark"
[context.lab]
controllers = ["http://127.0.0.1:7400"]
"#)
        .unwrap();
        assert_eq!(c.default_context.as_deref(), Some("prod"));
        let prod = &c.contexts["prod"];
        assert_eq!(prod.controllers, ["https://10.0.0.5:7400", "https://10.1.0.5:7400"]);
        assert_eq!(prod.token_file.as_deref(), Some(Path::new("/home/op/prod.token")));
        assert_eq!(prod.ca.as_deref(), Some(Path::new("/etc/hactl/ca.pem")));
        assert_eq!(prod.theme.as_deref(), Some("dark"));
        assert_eq!(prod.place, "/etc/hactl/config.toml:3");
        assert_eq!(c.contexts["lab"].token_file, None);
    }

    #[test]
    fn every_mistake_is_file_line_field_problem() {
        let cases = [
            (
                "[context.a]\ncontrollers = [\"http://x:1\"]\ntokenfile = \"t\"\n",
                "/etc/hactl/config.toml:3: context.a.tokenfile: unknown field `tokenfile`",
            ),
            (
                "default-context = \"b\"\n[context.a]\ncontrollers = [\"http://x:1\"]\n",
                "/etc/hactl/config.toml:1: default-context: no context `b` in this file (known: a)",
            ),
            (
                "[context.a]\ncontrollers = [\"http://x:1\",\n  \"ftp://x\"]\n",
                "/etc/hactl/config.toml:3: context.a.controllers[1]: `ftp://x` is not an http:// or https:// URL",
            ),
            (
                "[context.a]\ncontrollers = []\n",
                "/etc/hactl/config.toml:1: context.a.controllers: a context needs at least one controller URL",
            ),
            (
                "[context.a]\ncontrollers = \"http://x:1\"\n",
                "/etc/hactl/config.toml:2: context.a.controllers: invalid type",
            ),
            ("[context.a\n", "/etc/hactl/config.toml:1: "),
        ];
        for (text, want) in cases {
            let e = p(text).unwrap_err();
            assert!(e.starts_with(want), "{text:?}\n got {e}\nwant {want}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }

    #[test]
    fn the_file_is_found_by_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let f = env(&[("HACTL_CONFIG", "/x/c.toml"), ("HOME", "/h")]);
        assert_eq!(config_path(&f), Some((PathBuf::from("/x/c.toml"), true)));
        let f = env(&[("XDG_CONFIG_HOME", "/xdg"), ("HOME", "/h")]);
        assert_eq!(config_path(&f), Some((PathBuf::from("/xdg/hactl/config.toml"), false)));
        let f = env(&[("XDG_CONFIG_HOME", "relative"), ("HOME", "/h")]);
        assert_eq!(
            config_path(&f),
            Some((PathBuf::from("/h/.config/hactl/config.toml"), false))
        );
        assert_eq!(config_path(&env(&[])), None);
        let f = env(&[("HOME", "/nonexistent-home-of-nobody")]);
        assert_eq!(load(&f).unwrap(), Config::default(), "no file: nothing configured");
        let f = env(&[("HACTL_CONFIG", "/nonexistent/c.toml")]);
        assert!(
            load(&f)
                .unwrap_err()
                .starts_with("/nonexistent/c.toml (HACTL_CONFIG): cannot read")
        );
    }
}
