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

/// Which URL paths a page or request is on: an exact path, or a prefix ending in `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPattern {
    /// Any path.
    Any,
    /// Exactly this path.
    Exact(String),
    /// Paths starting with this.
    Prefix(String),
}

impl PathPattern {
    /// Parses a rule's `path`: must start with `/`; a trailing `*` makes it a prefix.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text == "*" {
            return Ok(Self::Any);
        }
        if !text.starts_with('/') {
            return Err(format!("path `{text}` must start with `/` (or be `*` for any path)"));
        }
        match text.strip_suffix('*') {
            Some(prefix) if prefix.contains('*') => Err(format!("path `{text}`: only a trailing `*` is allowed")),
            Some(prefix) => Ok(Self::Prefix(prefix.to_owned())),
            None if text.contains('*') => Err(format!("path `{text}`: only a trailing `*` is allowed")),
            None => Ok(Self::Exact(text.to_owned())),
        }
    }

    /// Whether `path` (without query) matches.
    pub fn matches(&self, path: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(want) => path == want,
            Self::Prefix(prefix) => path.starts_with(prefix.as_str()),
        }
    }
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
        assert!(PathPattern::parse("*").unwrap().matches("/x"));
        assert!(PathPattern::parse("/").unwrap().matches("/"));
        assert!(!PathPattern::parse("/").unwrap().matches("/index.php"));
        assert!(PathPattern::parse("/webmail/*").unwrap().matches("/webmail/index.php"));
        assert!(PathPattern::parse("webmail").is_err());
        assert!(PathPattern::parse("/a*/b").is_err());
    }
}
