//! Bundles the repository's `rewrite-rules/` into the binary: every `*.toml` rule file and
//! every file under `rewrite-rules/fixtures/`, so that adding a webmail means adding files
//! there and nothing in the code. Writes `$OUT_DIR/bundled.rs` (used by `src/rules/bundled.rs`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let rules_dir = manifest.join("../rewrite-rules");
    let fixtures_dir = rules_dir.join("fixtures");
    // A directory is scanned as a whole: any file added, changed or removed reruns this.
    println!("cargo::rerun-if-changed={}", rules_dir.display());

    let mut rules: Vec<PathBuf> = std::fs::read_dir(&rules_dir)
        .expect("rewrite-rules/ is next to proxy/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    rules.sort();
    let mut fixtures = Vec::new();
    files(&fixtures_dir, &mut fixtures);
    fixtures.sort();
    let mut out = String::from(
        "/// Bundled rule files: (file name, contents).\npub(crate) static BUNDLED: &[(&str, &str)] = &[\n",
    );
    for rule in &rules {
        let name = rule.file_name().and_then(|n| n.to_str()).expect("rule file names are UTF-8");
        let _ = writeln!(out, "    ({name:?}, include_str!({:?})),", rule.display().to_string());
    }
    out.push_str("];\n\n/// Bundled fixture files, by path relative to `rewrite-rules/fixtures/`.\n");
    out.push_str("pub(crate) static BUNDLED_FIXTURES: &[(&str, &[u8])] = &[\n");
    for fixture in &fixtures {
        let rel = fixture.strip_prefix(&fixtures_dir).expect("under fixtures/");
        let rel = rel.to_str().expect("fixture paths are UTF-8").replace('\\', "/");
        let _ = writeln!(out, "    ({rel:?}, include_bytes!({:?})),", fixture.display().to_string());
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("bundled.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
