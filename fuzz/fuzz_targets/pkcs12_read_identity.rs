//! `smime_crypto::pkcs12::read_identity` on arbitrary bytes: it must return, never panic,
//! never hang. The first byte picks one of a few passphrases so that the MAC-verified
//! paths are reachable from the seed corpus (files made with "test").
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, der)) = data.split_first() else { return };
    let passphrase: &[u8] = match selector % 4 {
        0 => b"test",
        1 => b"",
        2 => b"nss",
        _ => b"wrong",
    };
    let _ = smime_crypto::pkcs12::read_identity(der, passphrase);
});
