//! HTML rewriting with lol_html: pure functions from page bytes to page bytes, no I/O.
//! The charset decides whether a page can be rewritten at all ([`PageCharset`]).

mod charset;
mod html;

pub use charset::{PageCharset, is_html};
pub use html::prepend_to_body;
