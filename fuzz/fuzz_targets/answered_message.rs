//! The raw message a reply or forward answers (`smime_proxy::fuzzing::answered_message`):
//! threading fields, subject and quote.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smime_proxy::fuzzing::answered_message(data));
