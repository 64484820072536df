//! Writes the HTML renders behind `screenshots/*.png`: each page is a real render of the
//! console over the drill, in the default and dark themes. Every test run renders them
//! into a temporary directory and checks them; `scripts/screenshots.sh` names the
//! directory (`HACTL_SCREENSHOTS`) and turns the pages into PNGs with a headless browser.

use hactl::console::source::DrillControls;
use hactl::console::source::DrillOp;
use hactl::console::theme::{Depth, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::support::{console, press, settle};

#[test]
fn write_screenshot_pages() {
    let (dir, temporary) = match std::env::var("HACTL_SCREENSHOTS") {
        Ok(d) => (d, false),
        Err(_) => {
            let d = std::env::temp_dir().join(format!("hactl-screenshots-{}", std::process::id()));
            std::fs::create_dir_all(&d).unwrap();
            (d.display().to_string(), true)
        }
    };
    let shots: &[(&str, &str, &str)] = &[
        ("pairs", "default", ""),
        ("switchover", "default", "s"),
        ("hosts", "default", "2"),
        ("events", "default", "3"),
        ("sites", "default", "4"),
        ("detail", "default", "<Enter>"),
        ("drill", "default", "5"),
        ("pairs-dark", "dark", ""),
        ("pairs-80x24", "default", ""),
    ];
    for (name, theme, keys) in shots {
        let mut c = console(false);
        c.theme = Theme::load(Some(theme), Depth::TrueColor).unwrap();
        // Something to see: an operator switchover, then a crash and a NIC down.
        press(&mut c, "s<Right><Enter>");
        settle(&mut c, 20_000);
        for f in ["kill:west-sip-a", "nic-down:east-vm1/sip"] {
            c.source.drill_op(DrillOp::Inject(f.into())).unwrap();
        }
        settle(&mut c, 8_000);
        press(&mut c, keys);
        let (w, h) = if name.ends_with("80x24") { (80, 24) } else { (120, 36) };
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| c.render(f)).unwrap();
        let html = hactl::console::html::page(t.backend().buffer(), name);
        std::fs::write(format!("{dir}/{name}.html"), html).unwrap();
        std::fs::write(format!("{dir}/{name}.size"), format!("{w} {h}\n")).unwrap();
    }
    // The pages are what the console shows: the banner everywhere, the plan in the dialog.
    for (name, _, _) in shots {
        // Cells are laid out with non-breaking spaces: compare with those as spaces.
        let html = std::fs::read_to_string(format!("{dir}/{name}.html"))
            .unwrap()
            .replace('\u{a0}', " ");
        assert!(html.contains("SIMULATED DEPLOYMENT"), "{name}: no drill banner");
        if *name == "switchover" {
            assert!(
                html.contains("Pre-flight checks"),
                "the switchover page shows the plan's checks"
            );
        }
    }
    if temporary {
        std::fs::remove_dir_all(&dir).ok();
    }
}
