//! The local interception CA of smime-proxy.
#![warn(missing_docs)]
