//! A browser's form body (`smime_proxy::fuzzing::form_body`): the first byte picks the
//! content type (urlencoded, multipart with boundary `XY`, JSON); never a panic, and no
//! control field survives stripping.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smime_proxy::fuzzing::CONTENT_TYPES;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    smime_proxy::fuzzing::form_body(CONTENT_TYPES[usize::from(pick) % CONTENT_TYPES.len()], body);
});
