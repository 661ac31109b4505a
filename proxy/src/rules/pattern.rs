//! The small matching language of rule files: a query or form value pattern
//! ([`ValuePattern`]) and a path pattern ([`PathPattern`]).

use serde::Deserialize;

/// What a query parameter or form field must hold. Written in a rule as a string
/// (`"compose"`), `"*"` (present, any value), `""` (absent or empty) or an array of
/// those (any one of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValuePattern {
    /// Exactly this value.
    Exact(String),
    /// Present, with any value (even empty).
    Present,
    /// Absent or empty.
    Empty,
    /// Any one of these.
    OneOf(Vec<ValuePattern>),
}

impl ValuePattern {
    /// Whether `value` (`None` = absent) satisfies the pattern.
    pub fn matches(&self, value: Option<&str>) -> bool {
        match self {
            Self::Exact(want) => value == Some(want.as_str()),
            Self::Present => value.is_some(),
            Self::Empty => value.is_none_or(str::is_empty),
            Self::OneOf(any) => any.iter().any(|p| p.matches(value)),
        }
    }

    /// Whether a request matching this pattern always carries the parameter.
    pub fn requires_presence(&self) -> bool {
        match self {
            Self::Exact(_) | Self::Present => true,
            Self::Empty => false,
            Self::OneOf(any) => any.iter().all(Self::requires_presence),
        }
    }

    fn one(text: String) -> Self {
        match text.as_str() {
            "*" => Self::Present,
            "" => Self::Empty,
            _ => Self::Exact(text),
        }
    }
}

impl<'de> Deserialize<'de> for ValuePattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        match Raw::deserialize(deserializer) {
            Ok(Raw::One(text)) => Ok(Self::one(text)),
            Ok(Raw::Many(list)) if list.is_empty() => {
                Err(serde::de::Error::custom("an empty list matches nothing; give at least one value"))
            }
            Ok(Raw::Many(list)) => Ok(Self::OneOf(list.into_iter().map(Self::one).collect())),
            Err(_) => Err(serde::de::Error::custom(
                "expected a string (\"value\", \"*\" for any, \"\" for absent or empty) or an array of strings",
            )),
        }
    }
}

/// Which URL paths a page or request is on, written segment by segment: `/a/b` (exactly),
/// `*` alone (any path), and in a segment `*` (any text) or `{name}` (any non-empty text,
/// captured as `name`), optionally between literal text (`folder{folder}`); a `**`
/// segment stands for any number of segments (at most one per path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPattern {
    /// Any path.
    Any,
    /// These segments.
    Segments(Vec<Segment>),
}

/// One segment of a [`PathPattern`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Literal text, an optional wildcard, literal text.
    Glob {
        /// Text before the wildcard (the whole segment without one).
        prefix: String,
        /// The wildcard, if any.
        wildcard: Option<Wildcard>,
        /// Text after the wildcard.
        suffix: String,
    },
    /// `**`: any number of segments.
    Many,
}

/// The variable part of a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wildcard {
    /// `*`: any text, possibly empty.
    Any,
    /// `{name}`: any non-empty text, captured.
    Capture(String),
}

/// Values captured by `{name}` segments, percent-decoded.
pub type Captures = Vec<(String, String)>;

impl PathPattern {
    /// Parses a rule's `path`; errors say what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text == "*" {
            return Ok(Self::Any);
        }
        let Some(rest) = text.strip_prefix('/') else {
            return Err(format!("path `{text}` must start with `/` (or be `*` for any path)"));
        };
        let mut segments = Vec::new();
        let mut names = Vec::new();
        for raw in rest.split('/') {
            let segment = Self::segment(raw).map_err(|reason| format!("path `{text}`: {reason}"))?;
            if let Segment::Glob { wildcard: Some(Wildcard::Capture(name)), .. } = &segment {
                if names.contains(name) {
                    return Err(format!("path `{text}`: {{{name}}} appears twice"));
                }
                names.push(name.clone());
            }
            segments.push(segment);
        }
        if segments.iter().filter(|s| **s == Segment::Many).count() > 1 {
            return Err(format!("path `{text}`: at most one `**` segment"));
        }
        Ok(Self::Segments(segments))
    }

    fn segment(raw: &str) -> Result<Segment, String> {
        if raw == "**" {
            return Ok(Segment::Many);
        }
        if raw.contains("**") {
            return Err(format!("`**` must be a whole segment (in `{raw}`)"));
        }
        let (prefix, wildcard, suffix) = match (raw.find('*'), raw.find('{')) {
            (None, None) => (raw, None, ""),
            (Some(at), None) => (&raw[..at], Some(Wildcard::Any), &raw[at + 1..]),
            (None, Some(open)) => {
                let close =
                    raw[open..].find('}').map(|at| open + at).ok_or_else(|| format!("`{{` without `}}` in `{raw}`"))?;
                let name = &raw[open + 1..close];
                if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    return Err(format!("`{{{name}}}`: a capture name is letters, digits and `_`"));
                }
                (&raw[..open], Some(Wildcard::Capture(name.to_owned())), &raw[close + 1..])
            }
            (Some(_), Some(_)) => return Err(format!("one `*` or `{{name}}` per segment (in `{raw}`)")),
        };
        if suffix.contains(['*', '{', '}']) || prefix.contains('}') {
            return Err(format!("one `*` or `{{name}}` per segment (in `{raw}`)"));
        }
        Ok(Segment::Glob { prefix: prefix.to_owned(), wildcard, suffix: suffix.to_owned() })
    }

    /// Whether `path` (without query) matches.
    pub fn matches(&self, path: &str) -> bool {
        self.captures(path).is_some()
    }

    /// The captures when `path` matches, else `None`.
    pub fn captures(&self, path: &str) -> Option<Captures> {
        let segments = match self {
            Self::Any => return Some(Vec::new()),
            Self::Segments(segments) => segments,
        };
        let parts: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        let mut out = Vec::new();
        match segments.iter().position(|s| *s == Segment::Many) {
            None if parts.len() != segments.len() => return None,
            None => glob_all(segments, &parts, &mut out)?,
            Some(many) => {
                let tail = segments.len() - many - 1;
                if parts.len() < many + tail {
                    return None;
                }
                glob_all(&segments[..many], &parts[..many], &mut out)?;
                glob_all(&segments[many + 1..], &parts[parts.len() - tail..], &mut out)?;
            }
        }
        Some(out)
    }

    /// The capture names, in order.
    pub fn capture_names(&self) -> Vec<&str> {
        match self {
            Self::Any => Vec::new(),
            Self::Segments(segments) => segments
                .iter()
                .filter_map(|s| match s {
                    Segment::Glob { wildcard: Some(Wildcard::Capture(name)), .. } => Some(name.as_str()),
                    _ => None,
                })
                .collect(),
        }
    }
}

/// Matches equally many segments and parts pairwise.
fn glob_all(segments: &[Segment], parts: &[&str], out: &mut Captures) -> Option<()> {
    for (segment, part) in segments.iter().zip(parts) {
        let Segment::Glob { prefix, wildcard, suffix } = segment else { return None };
        match wildcard {
            None => (part == prefix).then_some(())?,
            Some(wildcard) => {
                let middle = part.strip_prefix(prefix.as_str())?.strip_suffix(suffix.as_str())?;
                if let Wildcard::Capture(name) = wildcard {
                    if middle.is_empty() {
                        return None;
                    }
                    let value = percent_encoding::percent_decode_str(middle).decode_utf8_lossy().into_owned();
                    out.push((name.clone(), value));
                }
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(toml_value: &str) -> ValuePattern {
        #[derive(Deserialize)]
        struct T {
            v: ValuePattern,
        }
        toml::from_str::<T>(&format!("v = {toml_value}")).unwrap().v
    }

    #[test]
    fn value_patterns() {
        assert!(pattern("\"send\"").matches(Some("send")));
        assert!(!pattern("\"send\"").matches(Some("sendx")));
        assert!(!pattern("\"send\"").matches(None));
        assert!(pattern("\"*\"").matches(Some("")));
        assert!(!pattern("\"*\"").matches(None));
        assert!(pattern("\"\"").matches(None));
        assert!(pattern("\"\"").matches(Some("")));
        assert!(!pattern("\"\"").matches(Some("1")));
        let list = pattern("[\"\", \"list\"]");
        assert!(list.matches(None) && list.matches(Some("list")) && !list.matches(Some("show")));
        assert!(!list.requires_presence());
        assert!(pattern("[\"show\", \"preview\"]").requires_presence());
    }

    #[test]
    fn bad_value_patterns_say_why() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code, reason = "only the error matters")]
        struct T {
            v: ValuePattern,
        }
        let err = toml::from_str::<T>("v = []").unwrap_err();
        assert!(err.message().contains("empty list"), "{err}");
        let err = toml::from_str::<T>("v = 3").unwrap_err();
        assert!(err.message().contains("expected a string"), "{err}");
    }

    #[test]
    fn path_patterns() {
        let p = |t: &str| PathPattern::parse(t).unwrap();
        assert!(p("*").matches("/x"));
        assert!(p("/").matches("/"));
        assert!(!p("/").matches("/index.php"));
        assert!(p("/webmail/*").matches("/webmail/index.php"));
        assert!(!p("/webmail/*").matches("/webmail/a/b"));
        assert!(p("/**/imp/dynamic.php").matches("/horde/imp/dynamic.php"));
        assert!(p("/**/imp/dynamic.php").matches("/imp/dynamic.php"));
        assert!(p("/**/imp/dynamic.php").matches("/a/b/imp/dynamic.php"));
        assert!(!p("/**/imp/dynamic.php").matches("/horde/imp/dynamic.phpx"));
        assert!(p("/a/**").matches("/a/b/c") && p("/a/**").matches("/a"));
    }

    #[test]
    fn path_captures() {
        let sogo = PathPattern::parse("/SOGo/so/{user}/Mail/{account}/folder{folder}/{uid}/view").unwrap();
        let got = sogo.captures("/SOGo/so/bob%40example.test/Mail/0/folderINBOX/27/view").unwrap();
        let want: Captures = [("user", "bob@example.test"), ("account", "0"), ("folder", "INBOX"), ("uid", "27")]
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(sogo.capture_names(), ["user", "account", "folder", "uid"]);
        // A capture is never empty; the literal text around it must be there.
        assert!(sogo.captures("/SOGo/so/bob/Mail/0/folder/27/view").is_none());
        assert!(sogo.captures("/SOGo/so/bob/Mail/0/INBOX/27/view").is_none());
        assert!(sogo.captures("/SOGo/so/bob/Mail/0/folderINBOX/27/view/x").is_none());
    }

    #[test]
    fn bad_path_patterns_say_why() {
        let e = |t: &str| PathPattern::parse(t).unwrap_err();
        assert!(e("webmail").contains("must start with `/`"));
        assert!(e("/a/**/b/**").contains("at most one `**`"));
        assert!(e("/a**").contains("whole segment"));
        assert!(e("/{a}/{a}").contains("appears twice"));
        assert!(e("/{a").contains("without `}`"));
        // A `}` before the `{` (found by the rule_file fuzz target: it sliced backwards).
        assert!(e("/ur}s{e").contains("without `}`"));
        assert!(e("/a}{b}").contains("one `*` or `{name}` per segment"));
        assert!(e("/{}").contains("capture name"));
        assert!(e("/*{a}").contains("one `*` or `{name}` per segment"));
        assert!(e("/{a}x*").contains("one `*` or `{name}` per segment"));
    }
}
