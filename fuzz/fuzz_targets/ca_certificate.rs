//! The local CA's certificate file (`smime_proxy::fuzzing::ca_certificate`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smime_proxy::fuzzing::ca_certificate(data));
