//! A compose request to every bundled rule (`smime_proxy::fuzzing::compose_request`):
//! the first byte picks the body's content type, the first line is `METHOD PATH?QUERY`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smime_proxy::fuzzing::CONTENT_TYPES;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    smime_proxy::fuzzing::compose_request(CONTENT_TYPES[usize::from(pick) % CONTENT_TYPES.len()], rest);
});
