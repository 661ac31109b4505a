//! The MITM core on hudsucker: the listener and builder ([`start`]), the one
//! `HttpHandler` that only dispatches (`handler`) and page rewriting of intercepted HTML
//! (`page`). The top of the module graph below the command line.

mod handler;
mod page;
mod server;

pub use server::{RunningProxy, start, start_with_keys};
