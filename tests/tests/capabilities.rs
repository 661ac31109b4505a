//! SMIMECapabilities: what we announce (as OpenSSL reads it), what we read from OpenSSL's
//! signatures, and the algorithms a message gets from what its recipients announced.

use smime_crypto::{
    Capabilities, Capability, Certificate, ContentCipher, KeyTransport, OpenOptions, RecipientProfile, SignOptions,
    TrustOptions, VerifyOptions, choose_algorithms, load_certificates, open_message, pkcs12, sign_message,
};
use smime_proxy_tests::{openssl_ok, pki_bytes, pki_file, sample_message};

fn cert(name: &str) -> Certificate {
    load_certificates(&pki_bytes(&format!("{name}.pem"))).expect("certificate").remove(0)
}

fn announced(signed: &[u8]) -> Option<Capabilities> {
    let trust = TrustOptions { anchors: vec![cert("ca")], ..TrustOptions::default() };
    let verify = VerifyOptions { trust, ..VerifyOptions::default() };
    let opened = open_message(signed, &OpenOptions { identity: None, verify }).expect("opens");
    opened.signature.expect("signed").signer.expect("a signer").capabilities
}

#[test]
fn our_announcement_is_what_openssl_reads_and_what_we_read_back() {
    let alice = pkcs12::read_identity(&pki_bytes("alice.p12"), b"test").expect("alice");
    let message = sample_message("alice@example.test", "bob@example.test", "capabilities");
    let signed = sign_message(&message, &alice, &SignOptions::default(), true).expect("signs").to_vec();
    assert_eq!(announced(&signed), Some(Capabilities::ours()));

    let printed =
        String::from_utf8(openssl_ok(&["cms", "-cmsout", "-print", "-inform", "SMIME"], &signed)).expect("text");
    let listed: Vec<&str> = ["aes-256-gcm", "aes-128-gcm", "aes-256-cbc", "aes-192-cbc", "aes-128-cbc", "rsaesOaep"]
        .into_iter()
        .filter(|name| printed.contains(&format!(":{name}")))
        .collect();
    assert_eq!(listed.len(), 6, "OpenSSL lists {listed:?} in\n{printed}");
    assert!(printed.contains(":sha256"), "OAEP's hash is SHA-256");
}

#[test]
fn openssl_announces_cbc_only_and_older_ciphers_are_left_out() {
    let alice = [pki_file("alice.pem"), pki_file("alice.key")].map(|p| p.to_string_lossy().into_owned());
    let message = sample_message("alice@example.test", "bob@example.test", "capabilities");
    let signed = openssl_ok(&["cms", "-sign", "-signer", &alice[0], "-inkey", &alice[1]], &message);
    let capabilities = announced(&signed).expect("OpenSSL announces its capabilities");
    // OpenSSL also lists DES-EDE3, RC2 and DES: nothing we would ever encrypt with.
    assert_eq!(capabilities.0, [Capability::Aes256Cbc, Capability::Aes192Cbc, Capability::Aes128Cbc]);
}

#[test]
fn a_message_gets_the_best_algorithms_every_recipient_announced() {
    let (alice, bob, carol, dave) = (cert("alice"), cert("bob"), cert("carol"), cert("dave"));
    let ours = Capabilities::ours();
    let gcm_only = Capabilities(vec![Capability::Aes256Gcm, Capability::Aes256Cbc]);
    let who = |certificate, capabilities| RecipientProfile { certificate, capabilities };

    // Two smime-proxy users: AES-256-GCM and OAEP.
    let choice = choose_algorithms(&[who(&alice, Some(&ours)), who(&bob, Some(&ours))]);
    assert_eq!(
        (choice.options.cipher, choice.options.key_transport),
        (ContentCipher::Aes256Gcm, KeyTransport::RsaOaep)
    );
    assert!(!choice.mixed_key_kinds);

    // One recipient whose capabilities are unknown (a certificate from a file): the defaults.
    let choice = choose_algorithms(&[who(&alice, Some(&ours)), who(&bob, None)]);
    assert_eq!(
        (choice.options.cipher, choice.options.key_transport),
        (ContentCipher::Aes256Cbc, KeyTransport::RsaPkcs1)
    );

    // GCM announced by all, OAEP not: GCM with PKCS#1 v1.5.
    let choice = choose_algorithms(&[who(&alice, Some(&ours)), who(&bob, Some(&gcm_only))]);
    assert_eq!(
        (choice.options.cipher, choice.options.key_transport),
        (ContentCipher::Aes256Gcm, KeyTransport::RsaPkcs1)
    );

    // EC recipients have no say in RSA key transport, but they do in the content cipher.
    let choice = choose_algorithms(&[who(&carol, None), who(&dave, Some(&ours))]);
    assert_eq!(choice.options.cipher, ContentCipher::Aes256Cbc);
    assert!(!choice.mixed_key_kinds, "P-256 and P-384 are both EC");
    let choice = choose_algorithms(&[who(&carol, Some(&ours)), who(&alice, Some(&ours))]);
    assert_eq!(
        (choice.options.cipher, choice.options.key_transport),
        (ContentCipher::Aes256Gcm, KeyTransport::RsaOaep)
    );
    assert!(choice.mixed_key_kinds, "RSA and EC in one message");

    // Nobody: nothing to choose from, the defaults.
    let choice = choose_algorithms(&[]);
    assert_eq!(
        (choice.options.cipher, choice.options.key_transport),
        (ContentCipher::Aes256Cbc, KeyTransport::RsaPkcs1)
    );
}
