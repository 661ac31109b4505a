//! A certificate file: PEM, DER, PKCS#7 (`smime_proxy::fuzzing::certificate_file`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smime_proxy::fuzzing::certificate_file(data));
