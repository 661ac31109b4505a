//! A page that may hold armored S/MIME (`smime_proxy::fuzzing::armored_page`): lines
//! joined, blocks found in their contexts and replaced; never a panic, and plaintext only
//! where a field is edited.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    smime_proxy::fuzzing::armored_page(data);
});
