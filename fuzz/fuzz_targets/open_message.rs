//! `open_message` (MIME + BER + CMS SignedData/EnvelopedData readers + verification) on
//! arbitrary messages, without a key: never a panic, and never "valid" without a trust
//! anchor.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smime_crypto::{OpenOptions, SignatureStatus, open_message};

fuzz_target!(|data: &[u8]| {
    if let Ok(opened) = open_message(data, &OpenOptions::default()) {
        let valid = opened.signature.is_some_and(|s| s.status == SignatureStatus::Valid);
        assert!(!valid, "a signature was valid with no trust anchor");
    }
});
