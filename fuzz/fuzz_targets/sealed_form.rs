//! A form body whose named fields are sealed (`smime_proxy::fuzzing::sealed_form`): the
//! first byte picks the content type; never a panic, and no named field goes unsealed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smime_proxy::fuzzing::CONTENT_TYPES;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    smime_proxy::fuzzing::sealed_form(CONTENT_TYPES[usize::from(pick) % CONTENT_TYPES.len()], body);
});
