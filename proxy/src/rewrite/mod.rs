//! HTML rewriting with lol_html: pure functions from page bytes to page bytes, no I/O.
//! The charset decides whether a page can be rewritten at all ([`PageCharset`]);
//! [`controls`] renders a rule's S/MIME controls, [`insert`] places markup and
//! [`insert_reading`] also reads a select's options (the compose page's senders).
//! [`replace_content`] swaps an element's content (the read view); [`JsonAnswer`] does the
//! same for a message inside a JSON answer. [`find_armor`] and [`replace_armor`] find and
//! replace armored S/MIME in a page (encrypted form fields).

mod armor;
mod charset;
mod controls;
mod html;
mod json;
mod options;
mod replace;

pub use armor::{
    ArmorContext, ArmorFound, ArmorReplacement, MAX_ARMOR_PER_PAGE, find_armor, has_armor, join_broken_lines,
    replace_armor,
};
pub use charset::{PageCharset, is_html};
pub use controls::{ControlsState, STATE_QUERY, controls};
pub use html::{Insert, RewriteError, Rewritten, insert, insert_reading};
pub use json::JsonAnswer;
pub use replace::replace_content;
