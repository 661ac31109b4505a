//! `smime_crypto::ber::to_der` on arbitrary bytes: never a panic, and whatever it returns
//! is a fixed point (DER in, the same DER out).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(der) = smime_crypto::ber::to_der(data) {
        let again = smime_crypto::ber::to_der(&der);
        assert!(again.is_ok_and(|d| d == der), "to_der is not idempotent");
    }
});
