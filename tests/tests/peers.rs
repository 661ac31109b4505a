//! Interop with the S/MIME engines of other mail clients: NSS (`cmsutil`, Thunderbird's
//! engine) and GnuPG (`gpgsm`). Each peer signs as bob, announcing what it can decrypt;
//! we verify that signature, learn the announcement, choose the algorithms as the compose
//! flow does (with alice, an smime-proxy user, as the other recipient), and the peer must
//! decrypt the result; the peer also verifies what we sign.
//!
//! What these peers read (NSS 3.87, gpgsm 2.2.40, Debian 12): EnvelopedData with AES-CBC
//! and RSAES-PKCS1-v1_5 to issuerAndSerialNumber recipients; not RSA-OAEP, not AES-GCM,
//! and NSS no message with an ECDH recipient in it (see the README, "Algorithms").

use smime_crypto::{
    Capabilities, Capability, Certificate, ContentCipher, Identity, KeyTransport, RecipientProfile, SignOptions,
    SignatureStatus, TrustOptions, VerifyOptions, choose_algorithms, encrypt_data, load_certificates, pkcs12,
    sign_data, verify_signed_data,
};
use smime_proxy_tests::peers::{Gpgsm, Nss, available};
use smime_proxy_tests::pki_bytes;

const CONTENT: &[u8] = b"Content-Type: text/plain; charset=utf-8\r\n\r\nHello from smime-proxy, K\xc3\xb6ln.\r\n";

fn cert(name: &str) -> Certificate {
    load_certificates(&pki_bytes(&format!("{name}.pem"))).expect("certificate").remove(0)
}

fn alice() -> Identity {
    pkcs12::read_identity(&pki_bytes("alice.p12"), b"test").expect("alice")
}

/// What a peer's signature announces, after checking that it verifies.
fn learned_from(signed: &[u8]) -> Capabilities {
    let trust = TrustOptions { anchors: vec![cert("ca")], ..TrustOptions::default() };
    let verified = verify_signed_data(signed, None, &VerifyOptions { trust, ..VerifyOptions::default() })
        .expect("the peer's signature is readable");
    let [signer] = verified.signers.as_slice() else { panic!("one signer") };
    assert_eq!(signer.status, SignatureStatus::Valid, "the peer's signature verifies");
    assert_eq!(signer.addresses, ["bob@example.test"]);
    signer.capabilities.clone().expect("the peer announces its capabilities")
}

/// The message the compose flow would encrypt to bob (as learned) and alice (ourselves).
fn encrypted_for(bob_announced: &Capabilities) -> Vec<u8> {
    let (alice, bob, ours) = (cert("alice"), cert("bob"), Capabilities::ours());
    let choice = choose_algorithms(&[
        RecipientProfile { certificate: &bob, capabilities: Some(bob_announced) },
        RecipientProfile { certificate: &alice, capabilities: Some(&ours) },
    ]);
    let (cipher, key_transport) = (choice.options.cipher, choice.options.key_transport);
    assert_eq!((cipher, key_transport), (ContentCipher::Aes256Cbc, KeyTransport::RsaPkcs1), "what the peer reads");
    encrypt_data(CONTENT, &[bob, alice], &choice.options).expect("encrypts")
}

fn detached_signature() -> Vec<u8> {
    sign_data(CONTENT, &alice(), &SignOptions::default(), true).expect("signs")
}

#[test]
fn nss_announces_cbc_gets_it_and_reads_it() {
    if !available("cmsutil") {
        return;
    }
    let nss = Nss::with_identity("bob");
    let announced = learned_from(&nss.sign(CONTENT));
    assert_eq!(announced.0, [Capability::Aes256Cbc, Capability::Aes128Cbc], "NSS 3.87 announces no GCM, no OAEP");
    assert_eq!(nss.decrypt(&encrypted_for(&announced)).expect("NSS decrypts it"), CONTENT);
}

#[test]
fn nss_verifies_our_signature_and_rejects_a_changed_content() {
    if !available("cmsutil") {
        return;
    }
    let nss = Nss::with_identity("bob");
    let signature = detached_signature();
    assert_eq!(nss.verify_detached(&signature, CONTENT), "GoodSignature");
    let changed = [CONTENT, b"P.S."].concat();
    assert_eq!(nss.verify_detached(&signature, &changed), "DigestMismatch");
}

#[test]
fn gpgsm_gets_what_it_reads_and_verifies_our_signature() {
    if !available("gpgsm") {
        return;
    }
    let gpgsm = Gpgsm::with_identity("bob");
    let announced = learned_from(&gpgsm.sign(CONTENT));
    assert!(!announced.has(Capability::Aes256Gcm) && !announced.has(Capability::RsaOaepSha256), "{announced:?}");
    assert_eq!(gpgsm.decrypt(&encrypted_for(&announced)).expect("gpgsm decrypts it"), CONTENT);

    let (good, status) = gpgsm.verify_detached(&detached_signature(), CONTENT);
    assert!(good, "{status}");
    let (good, status) = gpgsm.verify_detached(&detached_signature(), b"something else");
    assert!(!good, "{status}");
}
