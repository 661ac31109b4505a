//! The read flow (incoming mail): a message view whose message is S/MIME is shown
//! decrypted and verified in a frame of the own origin, never in the webmail's page.
//!
//! ```text
//! view page HTML ─▶ flow.rs (S/MIME hint? fetch raw message with the browser's session)
//!                     ├─ open.rs     shape (top level / nested only / plain), decrypt + verify
//!                     ├─ content.rs  inner entity → sanitised HTML (ammonia), cid images, attachments
//!                     ├─ banner.rs   the trust banner from verified facts
//!                     ├─ render.rs   the frame's document
//!                     └─ views.rs    single-use view store, served by origin::view
//! ```

mod banner;
mod content;
mod flow;
mod open;
mod render;
mod views;

pub(crate) use content::render as render_content;
pub use flow::{AnswerRequest, ReadFlow, ViewRequest};
pub use views::{ViewId, ViewStore};
