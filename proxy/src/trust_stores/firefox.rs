//! Firefox profiles: the directories named by `profiles.ini` in the places Firefox keeps
//! them (the usual `~/.mozilla/firefox`, the snap's and the flatpak's). Each profile has its
//! own NSS database (`cert9.db`).

use std::path::{Path, PathBuf};

/// Where Firefox keeps `profiles.ini`, relative to the home directory.
const PROFILE_ROOTS: [&str; 3] =
    [".mozilla/firefox", "snap/firefox/common/.mozilla/firefox", ".var/app/org.mozilla.firefox/.mozilla/firefox"];

/// Every existing profile directory named in the `profiles.ini` files under `home`.
pub(super) fn profiles(home: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for root in PROFILE_ROOTS.iter().map(|r| home.join(r)) {
        let Ok(ini) = std::fs::read_to_string(root.join("profiles.ini")) else { continue };
        for dir in profile_paths(&ini).into_iter().map(|(path, relative)| if relative { root.join(path) } else { path })
        {
            if dir.is_dir() && !found.contains(&dir) {
                found.push(dir);
            }
        }
    }
    found
}

/// The `Path=` of each `[Profile…]` section with whether it is relative (`IsRelative=1`, the
/// default). Lines that are not `key=value` are ignored, as Firefox does.
fn profile_paths(ini: &str) -> Vec<(PathBuf, bool)> {
    let mut paths = Vec::new();
    let mut section: Option<(Option<String>, bool)> = None;
    let mut finish = |section: Option<(Option<String>, bool)>| {
        if let Some((Some(path), relative)) = section {
            paths.push((PathBuf::from(path), relative));
        }
    };
    for line in ini.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            finish(section.take());
            section = name.starts_with("Profile").then_some((None, true));
        } else if let (Some((path, relative)), Some((key, value))) = (section.as_mut(), line.split_once('=')) {
            match key.trim() {
                "Path" if !value.trim().is_empty() => *path = Some(value.trim().to_owned()),
                "IsRelative" => *relative = value.trim() != "0",
                _ => {}
            }
        }
    }
    finish(section);
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_relative_and_absolute_profiles_and_ignores_the_rest() {
        let ini = "[Install4F96D1932A9F858E]\nDefault=abc.default-esr\nLocked=1\n\n\
                   [Profile1]\nName=default-esr\nIsRelative=1\nPath=abc.default-esr\nDefault=1\n\n\
                   [Profile0]\nName=other\nIsRelative=0\nPath=/srv/ff/other\n\n\
                   [General]\nStartWithLastProfile=1\nVersion=2\n";
        assert_eq!(
            profile_paths(ini),
            [(PathBuf::from("abc.default-esr"), true), (PathBuf::from("/srv/ff/other"), false)]
        );
    }

    #[test]
    fn bad_input_gives_no_profile() {
        for ini in ["", "garbage\n[[[\n=", "[Profile0]\nPath=\n", "[Profile0\nPath=x\n", "[General]\nPath=x\n"] {
            assert!(profile_paths(ini).is_empty(), "{ini:?}");
        }
    }

    #[test]
    fn finds_only_existing_profile_directories() {
        let home = tempfile::tempdir().unwrap();
        let root = home.path().join(".mozilla/firefox");
        std::fs::create_dir_all(root.join("a.default")).unwrap();
        std::fs::write(root.join("profiles.ini"), "[Profile0]\nPath=a.default\n[Profile1]\nPath=gone\n").unwrap();
        assert_eq!(profiles(home.path()), [root.join("a.default")]);
    }
}
