//! Styles by role, not by colour. Views ask for `theme.get(Role::Selected)` and never name
//! a colour. A theme is a TOML file of optional keys, one per role, patched over the
//! built-in default (which uses only the 16 ANSI colours); the built-in themes of `themes/`
//! are compiled in, so `--theme dark` works from anywhere. Colours then degrade to what the
//! terminal can show: true colour, 256 colours, 16 colours, or none (`NO_COLOR`), keeping
//! bold/reverse/underline so that nothing depends on colour alone.

use ratatui::style::{Color, Modifier, Style};

macro_rules! roles {
    ($($variant:ident = $name:literal,)*) => {
        /// What a piece of text is, for styling.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Role { $($variant,)* }
        impl Role {
            pub const ALL: &'static [Role] = &[$(Role::$variant,)*];
            pub fn name(self) -> &'static str {
                match self { $(Role::$variant => $name,)* }
            }
        }
    };
}

roles! {
    Banner = "banner",
    Header = "header",
    Tab = "tab",
    TabActive = "tab-active",
    Title = "title",
    Border = "border",
    Text = "text",
    Dim = "dim",
    Selected = "selected",
    Ok = "ok",
    Warn = "warn",
    Alarm = "alarm",
    Critical = "critical",
    Key = "key",
    KeyBar = "key-bar",
    Dialog = "dialog",
    Button = "button",
    ButtonFocused = "button-focused",
    Input = "input",
    Status = "status",
}

/// The built-in themes, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
];

/// How many colours the terminal shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    None,
    Ansi16,
    Ansi256,
    TrueColor,
}

impl Depth {
    /// From the environment: `NO_COLOR`, `COLORTERM`, `TERM`.
    pub fn detect() -> Depth {
        let var = |k: &str| std::env::var(k).unwrap_or_default();
        if !var("NO_COLOR").is_empty() {
            Depth::None
        } else if matches!(var("COLORTERM").as_str(), "truecolor" | "24bit") {
            Depth::TrueColor
        } else if var("TERM").contains("256") {
            Depth::Ansi256
        } else {
            Depth::Ansi16
        }
    }
}

/// The largest theme file read, in bytes.
pub const MAX_THEME_BYTES: u64 = 1 << 20;

/// A file name or value cut short and escaped for a one-line message.
fn clip(s: &str) -> String {
    crate::engine::config::escape(&crate::engine::config::clip(s, 80)).into_owned()
}

/// A bad theme: names the file and the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("theme {file}: {message}")]
pub struct ThemeError {
    pub file: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    pub name: String,
    styles: Vec<Style>,
}

impl Theme {
    pub fn get(&self, role: Role) -> Style {
        self.styles[role as usize]
    }

    /// The built-in default, at full colour.
    pub fn default_theme() -> Theme {
        let mut t = Theme {
            name: "default".into(),
            styles: vec![Style::default(); Role::ALL.len()],
        };
        t.patch("default", BUILTIN[0].1)
            .expect("the built-in default theme parses");
        t
    }

    /// `--theme NAME|FILE` (or the default), degraded to `depth`.
    pub fn load(spec: Option<&str>, depth: Depth) -> Result<Theme, ThemeError> {
        let mut t = Theme::default_theme();
        if let Some(spec) = spec {
            match BUILTIN.iter().find(|(n, _)| *n == spec) {
                Some((name, text)) => t.patch(name, text)?,
                None => {
                    let path = std::path::Path::new(spec);
                    let builtin = BUILTIN.iter().map(|b| b.0).collect::<Vec<_>>().join(", ");
                    let looks_like_a_file = spec.contains(['/', '.']);
                    if !looks_like_a_file && !path.exists() {
                        return Err(ThemeError {
                            file: clip(spec),
                            message: format!("no such built-in theme (built-in: {builtin}; or give a theme file)"),
                        });
                    }
                    let bytes = crate::input::read_file(path, MAX_THEME_BYTES).map_err(|e| ThemeError {
                        file: clip(spec),
                        message: format!("{e}; built-in themes: {builtin}"),
                    })?;
                    let text = String::from_utf8(bytes).map_err(|_| ThemeError {
                        file: clip(spec),
                        message: "not UTF-8 text".into(),
                    })?;
                    t.patch(spec, &text)?;
                }
            }
            t.name = spec.to_string();
        }
        t.degrade(depth);
        Ok(t)
    }

    /// Applies the keys of a theme file over this theme.
    pub fn patch(&mut self, file: &str, text: &str) -> Result<(), ThemeError> {
        let err = |message: String| ThemeError {
            file: clip(file),
            message: clip(&message),
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            // `line:col: what`, from the parser's span, without its caret diagram.
            let at = e.span().map_or(0, |s| s.start).min(text.len());
            let before = text.as_bytes()[..at].split(|b| *b == b'\n');
            let (line, col) = before.fold((0, 0), |(l, _), seg| (l + 1, seg.len() + 1));
            let what = e.message().trim().lines().collect::<Vec<_>>().join("; ");
            err(format!("line {line}, column {col}: {what}"))
        })?;
        for (key, value) in &table {
            let role = Role::ALL.iter().find(|r| r.name() == key).ok_or_else(|| {
                err(format!(
                    "key `{key}`: unknown role (known: {})",
                    Role::ALL.iter().map(|r| r.name()).collect::<Vec<_>>().join(", ")
                ))
            })?;
            let spec = value.as_table().ok_or_else(|| {
                err(format!(
                    "key `{key}`: expected a table like {{ fg = \"red\", bold = true }}"
                ))
            })?;
            let mut style = self.styles[*role as usize];
            for (field, v) in spec {
                let at = format!("key `{key}.{field}`");
                match field.as_str() {
                    "fg" | "bg" => {
                        let c = parse_color(v).map_err(|m| err(format!("{at}: {m}")))?;
                        style = if field == "fg" { style.fg(c) } else { style.bg(c) };
                    }
                    "bold" | "dim" | "italic" | "underline" | "reversed" => {
                        let on = v
                            .as_bool()
                            .ok_or_else(|| err(format!("{at}: expected true or false")))?;
                        let m = match field.as_str() {
                            "bold" => Modifier::BOLD,
                            "dim" => Modifier::DIM,
                            "italic" => Modifier::ITALIC,
                            "underline" => Modifier::UNDERLINED,
                            _ => Modifier::REVERSED,
                        };
                        style = if on {
                            style.add_modifier(m)
                        } else {
                            style.remove_modifier(m)
                        };
                    }
                    _ => {
                        return Err(err(format!(
                            "{at}: unknown field (expected fg, bg, bold, dim, italic, underline, reversed)"
                        )));
                    }
                }
            }
            self.styles[*role as usize] = style;
        }
        Ok(())
    }

    /// Brings every colour down to what the terminal shows.
    pub fn degrade(&mut self, depth: Depth) {
        for s in &mut self.styles {
            if depth != Depth::None {
                s.fg = s.fg.and_then(|c| degrade(c, depth));
                s.bg = s.bg.and_then(|c| degrade(c, depth));
            }
            if depth == Depth::None {
                // A role told apart by its background keeps standing out in reverse video.
                if s.bg.is_some_and(|c| c != Color::Reset) {
                    *s = s.add_modifier(Modifier::REVERSED);
                }
                s.fg = None;
                s.bg = None;
            }
        }
    }
}

const NAMED: &[(&str, Color)] = &[
    ("reset", Color::Reset),
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("darkgray", Color::DarkGray),
    ("lightred", Color::LightRed),
    ("lightgreen", Color::LightGreen),
    ("lightyellow", Color::LightYellow),
    ("lightblue", Color::LightBlue),
    ("lightmagenta", Color::LightMagenta),
    ("lightcyan", Color::LightCyan),
    ("white", Color::White),
];

/// RGB of the 16 ANSI colours (xterm defaults), for degrading.
const ANSI_RGB: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

fn parse_color(v: &toml::Value) -> Result<Color, String> {
    if let Some(n) = v.as_integer() {
        return u8::try_from(n)
            .map(Color::Indexed)
            .map_err(|_| format!("colour index {n} is not between 0 and 255"));
    }
    let s = v
        .as_str()
        .ok_or("expected a colour name, \"#rrggbb\" or an index 0-255")?;
    if let Some(hex) = s.strip_prefix('#') {
        let n = (hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u32::from_str_radix(hex, 16).ok())
            .flatten();
        return n
            .map(|n| Color::Rgb((n >> 16) as u8, (n >> 8) as u8, n as u8))
            .ok_or_else(|| format!("`{}` is not a colour of the form #rrggbb", clip(s)));
    }
    let lower = s.to_ascii_lowercase().replace(['-', '_', ' '], "");
    let lower = lower.replace("grey", "gray");
    NAMED.iter().find(|(n, _)| *n == lower).map(|(_, c)| *c).ok_or_else(|| {
        format!(
            "unknown colour `{}` (use {}, \"#rrggbb\" or 0-255)",
            clip(s),
            NAMED.iter().map(|n| n.0).collect::<Vec<_>>().join(", ")
        )
    })
}

fn rgb_of_index(i: u8) -> (u8, u8, u8) {
    match i {
        0..=15 => ANSI_RGB[i as usize].1,
        16..=231 => {
            let i = i - 16;
            let lvl = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            (lvl(i / 36), lvl((i / 6) % 6), lvl(i % 6))
        }
        _ => {
            let g = 8 + (i - 232) * 10;
            (g, g, g)
        }
    }
}

fn nearest_ansi(rgb: (u8, u8, u8)) -> Color {
    let d = |a: (u8, u8, u8)| {
        let f = |x: u8, y: u8| (i32::from(x) - i32::from(y)).pow(2);
        f(a.0, rgb.0) + f(a.1, rgb.1) + f(a.2, rgb.2)
    };
    ANSI_RGB
        .iter()
        .min_by_key(|(_, c)| d(*c))
        .map_or(Color::Reset, |(c, _)| *c)
}

fn to_256(rgb: (u8, u8, u8)) -> u8 {
    let q = |v: u8| {
        if v < 48 {
            0
        } else if v < 115 {
            1
        } else {
            (v - 35) / 40
        }
    };
    16 + 36 * q(rgb.0) + 6 * q(rgb.1) + q(rgb.2)
}

fn degrade(c: Color, depth: Depth) -> Option<Color> {
    match (depth, c) {
        (Depth::None, _) => None,
        (Depth::TrueColor, c) => Some(c),
        (Depth::Ansi256, Color::Rgb(r, g, b)) => Some(Color::Indexed(to_256((r, g, b)))),
        (Depth::Ansi256, c) => Some(c),
        (Depth::Ansi16, Color::Rgb(r, g, b)) => Some(nearest_ansi((r, g, b))),
        (Depth::Ansi16, Color::Indexed(i)) => Some(nearest_ansi(rgb_of_index(i))),
        (Depth::Ansi16, c) => Some(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_parses_and_sets_only_known_roles() {
        for (name, _) in BUILTIN {
            Theme::load(Some(name), Depth::TrueColor).unwrap();
        }
    }

    #[test]
    fn the_default_uses_only_the_16_ansi_colours() {
        let t = Theme::load(None, Depth::TrueColor).unwrap();
        for s in &t.styles {
            for c in [s.fg, s.bg].into_iter().flatten() {
                assert!(!matches!(c, Color::Rgb(..) | Color::Indexed(_)), "{c:?}");
            }
        }
    }

    #[test]
    fn a_partial_theme_patches_the_default() {
        let mut t = Theme::default_theme();
        let before = t.get(Role::Text);
        t.patch("mine.toml", "banner = { fg = \"#ff0000\" }").unwrap();
        assert_eq!(t.get(Role::Banner).fg, Some(Color::Rgb(255, 0, 0)));
        assert_eq!(t.get(Role::Text), before);
    }

    #[test]
    fn a_bad_key_is_named_with_its_file() {
        let mut t = Theme::default_theme();
        let e = t.patch("mine.toml", "banner = { fg = \"mauve\" }").unwrap_err();
        assert_eq!(e.file, "mine.toml");
        assert!(e.message.contains("banner.fg"), "{e}");
        let e = t.patch("mine.toml", "bannr = { fg = \"red\" }").unwrap_err();
        assert!(e.to_string().contains("key `bannr`"), "{e}");
    }

    #[test]
    fn a_signed_hex_colour_is_refused() {
        let mut t = Theme::default_theme();
        for bad in ["#+12345", "#-12345", "#12345", "#1234567", "# 12345"] {
            let e = t
                .patch("mine.toml", &format!("banner = {{ fg = \"{bad}\" }}"))
                .unwrap_err();
            assert!(e.message.contains("#rrggbb"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_huge_colour_name_is_not_echoed_in_full() {
        let mut t = Theme::default_theme();
        let name = "x".repeat(10 << 20);
        let e = t
            .patch("mine.toml", &format!("banner = {{ fg = \"{name}\" }}"))
            .unwrap_err();
        assert!(e.to_string().len() < 1000, "{} bytes", e.to_string().len());
        assert!(e.message.contains("unknown colour `xxx"), "{e}");
    }

    #[test]
    fn an_unknown_theme_name_lists_the_built_in_themes() {
        let e = Theme::load(Some("nope"), Depth::TrueColor).unwrap_err();
        assert_eq!(
            e.to_string(),
            "theme nope: no such built-in theme (built-in: default, dark, light, high-contrast; or give a theme file)"
        );
    }

    #[test]
    fn a_theme_syntax_error_is_one_line_with_its_position() {
        let mut t = Theme::default_theme();
        let e = t
            .patch("mine.toml", "banner = { fg = \"red\" }\ntext = = 1\n")
            .unwrap_err();
        let msg = e.to_string();
        assert!(!msg.contains('\n') && !msg.contains('^') && !msg.contains('|'), "{msg}");
        assert!(msg.starts_with("theme mine.toml: line 2, column "), "{msg}");
    }

    #[test]
    fn a_device_is_not_read_as_a_theme() {
        let e = Theme::load(Some("/dev/zero"), Depth::TrueColor).unwrap_err();
        assert!(e.message.contains("not a regular file"), "{e}");
    }

    #[test]
    fn no_color_keeps_modifiers_and_drops_colours() {
        let t = Theme::load(None, Depth::None).unwrap();
        assert!(t.styles.iter().all(|s| s.fg.is_none() && s.bg.is_none()));
        assert!(t.get(Role::Selected).add_modifier.contains(Modifier::REVERSED));
        assert!(t.get(Role::Banner).add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn true_colour_degrades_to_ansi() {
        assert_eq!(degrade(Color::Rgb(250, 10, 10), Depth::Ansi16), Some(Color::LightRed));
        assert_eq!(
            degrade(Color::Rgb(255, 0, 0), Depth::Ansi256),
            Some(Color::Indexed(196))
        );
    }
}
