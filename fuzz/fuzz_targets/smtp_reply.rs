//! An SMTP server's reply (`smime_proxy::fuzzing::smtp_reply`) and dot-stuffing of the
//! same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smime_proxy::fuzzing::smtp_reply(data));
