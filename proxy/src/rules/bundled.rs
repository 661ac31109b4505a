//! The rules embedded in the binary (from the repository's `rewrite-rules/`), and their
//! fixtures, so that `smime-proxy rules test` can check them anywhere.

/// `(path relative to rewrite-rules/fixtures/, contents)` of one embedded fixture file.
macro_rules! fixture {
    ($path:literal) => {
        ($path, include_bytes!(concat!("../../../rewrite-rules/fixtures/", $path)))
    };
}

/// Bundled rule files: (file name, contents).
pub(crate) static BUNDLED: &[(&str, &str)] =
    &[("roundcube.toml", include_str!("../../../rewrite-rules/roundcube.toml"))];

/// Bundled fixture files, by path relative to `rewrite-rules/fixtures/`.
pub(crate) static BUNDLED_FIXTURES: &[(&str, &[u8])] = &[
    fixture!("roundcube/fixtures.toml"),
    fixture!("roundcube/compose.html"),
    fixture!("roundcube/compose.expected.txt"),
    fixture!("roundcube/compose.expected.html"),
    fixture!("roundcube/login.html"),
    fixture!("roundcube/login.expected.txt"),
    fixture!("roundcube/mail-inbox.html"),
    fixture!("roundcube/mail-inbox.expected.txt"),
    fixture!("roundcube/message-show.html"),
    fixture!("roundcube/message-show.expected.txt"),
    fixture!("roundcube/message-preview.html"),
    fixture!("roundcube/message-preview.expected.txt"),
    fixture!("roundcube/encrypted-preview.html"),
    fixture!("roundcube/encrypted-preview.expected.txt"),
    fixture!("roundcube/send-request-raw.txt"),
    fixture!("roundcube/send-request-raw.expected.txt"),
    fixture!("roundcube/draft-request-raw.txt"),
    fixture!("roundcube/draft-request-raw.expected.txt"),
    fixture!("roundcube/upload-request-raw.txt"),
    fixture!("roundcube/upload-request-raw.expected.txt"),
    fixture!("roundcube/spellcheck-request-raw.txt"),
    fixture!("roundcube/spellcheck-request-raw.expected.txt"),
    fixture!("roundcube/login-request-raw.txt"),
    fixture!("roundcube/login-request-raw.expected.txt"),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of rewrite-rules/fixtures/ is bundled (a new fixture must be added above).
    #[test]
    fn every_fixture_file_is_bundled() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rewrite-rules/fixtures");
        let mut on_disk = Vec::new();
        for rule in std::fs::read_dir(&root).unwrap() {
            let rule = rule.unwrap().path();
            for file in std::fs::read_dir(&rule).unwrap() {
                let name = file.unwrap().file_name().into_string().unwrap();
                on_disk.push(format!("{}/{name}", rule.file_name().unwrap().to_str().unwrap()));
            }
        }
        on_disk.sort();
        let mut bundled: Vec<String> = BUNDLED_FIXTURES.iter().map(|(p, _)| (*p).to_owned()).collect();
        bundled.sort();
        assert_eq!(bundled, on_disk);
    }

    #[test]
    fn bundled_rules_load() {
        let set = crate::rules::RuleSet::bundled().unwrap();
        assert_eq!(set.names(), vec!["roundcube"]);
    }
}
