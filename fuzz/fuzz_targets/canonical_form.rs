//! A form body's canonical form for signing (`smime_proxy::fuzzing::canonical_form`): the
//! first byte picks the content type; never a panic, and adding the signature field leaves
//! the canonical form as it was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smime_proxy::fuzzing::CONTENT_TYPES;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    smime_proxy::fuzzing::canonical_form(CONTENT_TYPES[usize::from(pick) % CONTENT_TYPES.len()], body);
});
