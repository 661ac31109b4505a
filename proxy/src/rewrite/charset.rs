//! The charset of an HTML response, from its `Content-Type` header.

use encoding_rs::Encoding;
use lol_html::AsciiCompatibleEncoding;

/// How the rewriter must treat a page's bytes.
#[derive(Debug, Clone, Copy)]
pub enum PageCharset {
    /// The header names an ASCII-compatible charset: rewrite in that charset.
    Declared(AsciiCompatibleEncoding),
    /// No charset in the header: rewrite, following a `<meta charset>` if the page has one.
    Undeclared,
    /// A charset lol_html cannot rewrite safely (UTF-16, ISO-2022-JP, unknown label): the
    /// page passes through untouched.
    Unsupported,
}

impl PageCharset {
    /// From a `Content-Type` header value such as `text/html; charset=windows-1252`.
    pub fn from_content_type(content_type: &str) -> Self {
        let label = content_type.split(';').skip(1).find_map(|param| {
            let (name, value) = param.split_once('=')?;
            name.trim().eq_ignore_ascii_case("charset").then(|| value.trim().trim_matches('"'))
        });
        let Some(label) = label else {
            return Self::Undeclared;
        };
        Encoding::for_label(label.as_bytes())
            .and_then(AsciiCompatibleEncoding::new)
            .map_or(Self::Unsupported, Self::Declared)
    }
}

/// True for `text/html` (any parameters, any case).
pub fn is_html(content_type: &str) -> bool {
    content_type.split(';').next().is_some_and(|mime| mime.trim().eq_ignore_ascii_case("text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charsets() {
        assert!(matches!(
            PageCharset::from_content_type("text/html; charset=\"Windows-1252\""),
            PageCharset::Declared(e) if <&Encoding>::from(e) == encoding_rs::WINDOWS_1252
        ));
        assert!(matches!(PageCharset::from_content_type("text/html"), PageCharset::Undeclared));
        assert!(matches!(PageCharset::from_content_type("text/html; charset=utf-16le"), PageCharset::Unsupported));
        assert!(matches!(PageCharset::from_content_type("text/html; charset=klingon"), PageCharset::Unsupported));
    }

    #[test]
    fn html_detection() {
        assert!(is_html("text/html; charset=utf-8"));
        assert!(is_html("TEXT/HTML"));
        assert!(!is_html("application/xhtml+xml"));
        assert!(!is_html("text/plain"));
    }
}
