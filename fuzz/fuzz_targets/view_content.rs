//! A decrypted message rendered for the view frame (`smime_proxy::fuzzing::view_content`):
//! no active or loading element survives the sanitiser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smime_proxy::fuzzing::view_content(data));
