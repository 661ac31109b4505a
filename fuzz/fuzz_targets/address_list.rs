//! A posted address list (`smime_proxy::fuzzing::address_list`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| smime_proxy::fuzzing::address_list(text));
