//! The registry of rules embedded in the binary, by name.

/// One webmail's rule.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// The name users give in `--site HOST=RULE` and `[sites]`.
    pub name: &'static str,
    /// HTML inserted right after the opening `<body>` tag of every HTML page of the site:
    /// the anchor where the controls will live. It also proves the page went through the
    /// rewriter.
    pub body_prepend: &'static str,
}

/// Every bundled rule.
static BUNDLED: &[Rule] = &[Rule {
    name: "roundcube",
    body_prepend: r#"<div id="smime-proxy-controls" hidden data-smime-proxy="roundcube"></div>"#,
}];

/// The bundled rule called `name`.
pub fn bundled(name: &str) -> Option<&'static Rule> {
    BUNDLED.iter().find(|rule| rule.name == name)
}

/// The names of all bundled rules, for error messages and `--help`.
pub fn bundled_names() -> impl Iterator<Item = &'static str> {
    BUNDLED.iter().map(|rule| rule.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundcube_is_bundled_and_others_are_not() {
        assert_eq!(bundled("roundcube").map(|r| r.name), Some("roundcube"));
        assert!(bundled("gmail").is_none());
        assert!(bundled_names().any(|n| n == "roundcube"));
    }
}
