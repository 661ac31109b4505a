//! A webmail's HTML page, its first line the `Content-Type` (`smime_proxy::fuzzing::webmail_page`):
//! every bundled rule's compose controls inserted and sender options read, every HTML
//! view's message area replaced; an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smime_proxy::fuzzing::webmail_page(data));
