//! A private key file (`smime_proxy::fuzzing::private_key`): PEM (PKCS#8, encrypted
//! PKCS#8, PKCS#1, SEC1) and PKCS#8 DER; the first byte picks the passphrase.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smime_proxy::fuzzing::private_key(data));
