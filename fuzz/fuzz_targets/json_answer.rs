//! A webmail's answer to every bundled JSON view (`smime_proxy::fuzzing::json_answer`):
//! parsed in its envelope, messages replaced, written again as JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smime_proxy::fuzzing::json_answer(data));
