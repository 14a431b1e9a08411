//! `.sops.yaml` (`gitseal::config`): parsing does not panic; a parsed config answers which
//! rule and destination apply to a few paths, and its rules' master keys parse or fail, without
//! panicking.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gitseal::config::Config;
use gitseal::formats::Format;

/// Paths asked about: inside the config's directory (relative matching), and outside it.
const FILES: [&str; 5] =
    ["/repo/secrets/db.yaml", "/repo/app.env", "/repo/a/b/values.enc.toml", "/repo/.sops.yaml", "/elsewhere/x.json"];

/// See the module documentation.
pub fn config(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let Ok(cfg) = Config::parse(src, ".sops.yaml", PathBuf::from("/repo")) else { return };
    for rule in &cfg.rules {
        let _ = rule.describe();
        let _ = rule.key_groups(&cfg.name, &BTreeMap::new());
    }
    for file in FILES {
        let path = Path::new(file);
        let _ = cfg.match_path(path);
        if let Some(rule) = cfg.rule_for(path) {
            let _ = rule.path_regex();
        }
        let _ = cfg.destination_for(path);
    }
    for format in [Format::Yaml, Format::Json, Format::Toml, Format::Ini, Format::Dotenv, Format::Binary] {
        let _ = cfg.stores.indent_for(format);
    }
}
