//! Times as people and files read them: RFC 3339 in UTC.

use std::time::SystemTime;

/// `at` as RFC 3339 in UTC (`2026-12-04T10:00:00Z`), or `unknown`.
pub fn rfc3339(at: SystemTime) -> String {
    time::OffsetDateTime::from(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown".to_owned())
}
