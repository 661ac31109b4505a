//! A signed record of a page as `message verify-page` reads it
//! (`smime_crypto::page_record::read_page_record`, then `verify_signed_data`): never a
//! panic; a URL and time are read only from a record with exactly one signer; without a
//! trust anchor no signature is valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smime_crypto::{SignatureStatus, VerifyOptions, page_record::read_page_record, verify_signed_data};

fuzz_target!(|data: &[u8]| {
    let record = read_page_record(data);
    if let Ok(verified) = verify_signed_data(data, None, &VerifyOptions::default()) {
        assert!(verified.signers.iter().all(|s| s.status != SignatureStatus::Valid), "valid without an anchor");
        assert!(record.is_err() || verified.signers.len() == 1, "a record of several signers was read");
    }
});
