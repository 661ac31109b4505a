//! Deliberate differences: rows whose stated verdict we do not give, on purpose, with
//! the verdict we give instead and why. Each entry must still match its row's outcome,
//! and an entry whose row agrees with the stated verdict is reported as stale.
//! Entries marked LIMITATION are not policy but known gaps (see the closing report).

use super::Verdict;

/// Our verdict for a row, and the reason it differs from the stated one.
#[derive(Debug)]
pub struct Deliberate {
    pub file: &'static str,
    pub variant: &'static str,
    pub ours: Verdict,
    pub reason: &'static str,
}

const TB: &str = "mailnews/test/data/smime/";

/// Every deliberate difference.
pub fn all() -> Vec<Deliberate> {
    let mut list = Vec::new();
    let mut add = |file: String, variant: &'static str, ours: Verdict, reason: &'static str| {
        list.push(Deliberate { file: Box::leak(file.into_boxed_str()), variant, ours, reason });
    };

    // --- Thunderbird: messages re-signed by Dave (alice.{env,plain}.*.dave.*).
    // Thunderbird does not descend into an envelope below two signatures and reports BAD
    // for any multipart/signed nested with another signature (its MIME tree handling,
    // not cryptography: OpenSSL finds every layer valid). We verify each layer on its own
    // and report the outer signer (Dave, who matches From) when every layer verifies;
    // the envelope under Alice's signature is decrypted. Alice's LF-only detached
    // signature over the envelope (alice.env.dsig) verifies over the exact bytes found
    // inside Dave's opaque layer (OpenSSL only tries the CRLF form, so it calls it bad).
    const NESTED: &str = "layers verified one by one; Thunderbird's nested-signature handling differs";
    let dave = Verdict::Good {
        signer: "dave@example.com",
        encrypted: false,
        text: "This is a test message from Alice to Bob.",
    };
    let dave_encrypted = Verdict::Good {
        signer: "dave@example.com",
        encrypted: true,
        text: "This is a test message from Alice to Bob.",
    };
    for sha in ["SHA1", "SHA256", "SHA384", "SHA512"] {
        let variants: &[&'static str] = if sha == "SHA1" { &["sha1-allowed"] } else { &["default", "sha1-allowed"] };
        for &variant in variants {
            add(format!("{TB}alice.env.sig.{sha}.opaque.dave.sig.{sha}.opaque.eml"), variant, dave_encrypted, NESTED);
            add(
                format!("{TB}alice.env.dsig.{sha}.multipart.dave.sig.{sha}.opaque.eml"),
                variant,
                dave_encrypted,
                NESTED,
            );
            add(format!("{TB}alice.plain.dsig.{sha}.multipart.dave.sig.{sha}.opaque.eml"), variant, dave, NESTED);
            add(format!("{TB}alice.plain.sig.{sha}.opaque.dave.dsig.{sha}.multipart.eml"), variant, dave, NESTED);
            add(format!("{TB}alice.plain.dsig.{sha}.multipart.dave.dsig.{sha}.multipart.eml"), variant, dave, NESTED);
        }
    }
    // Default policy, SHA-1: the same verdict (SHA-1 refused) but we also decrypted.
    for name in
        ["alice.env.sig.SHA1.opaque.dave.sig.SHA1.opaque.eml", "alice.env.dsig.SHA1.multipart.dave.sig.SHA1.opaque.eml"]
    {
        add(format!("{TB}{name}"), "default", Verdict::Bad { reason: "SHA-1", encrypted: true, text: "" }, NESTED);
    }
    // A signed part inside multipart/mixed (mailing-list footer): Thunderbird shows the
    // part as signed; we only report signatures that cover the whole message, so the
    // message is unsigned (the footer could claim anything).
    for name in ["alice.dsig.SHA256.multipart.in.mixed.eml", "alice.dsig.SHA256.multipart.in.mixed.with.header.eml"] {
        add(
            format!("mail/test/browser/smime/data/{name}"),
            "default",
            Verdict::Unprotected { absent: "" },
            "only signatures over the whole message count",
        );
    }

    // --- OpenSSL.
    add(
        "test/recipes/80-test_cms_data/authenveloped_attrs.pem".into(),
        "default",
        Verdict::Error { reason: "no matching recipient" },
        "KEKRecipientInfo (pre-shared key-encryption keys) is not supported: mail uses certificates",
    );
    add(
        "test/recipes/80-test_cms_data/authenticated_attrs.pem".into(),
        "default",
        Verdict::Error { reason: "not (auth-)enveloped" },
        "AuthenticatedData (MAC with a shared key) is not used by S/MIME mail: a clean error",
    );
    add(
        "test/recipes/80-test_cmsapi_data/encryptedData.der".into(),
        "default",
        Verdict::Error { reason: "not (auth-)enveloped" },
        "EncryptedData (pre-shared content key) is not used by S/MIME mail: a clean error",
    );
    add(
        "test/recipes/25-test_pkcs7_data/malformed.pkcs7".into(),
        "default",
        Verdict::Error { reason: "malformed" },
        "a ContentInfo without content has nothing to verify: a clean error (the upstream only requires no crash)",
    );
    add(
        "test/pkcs7-1.pem".into(),
        "default",
        Verdict::Error { reason: "trailing data" },
        "one byte after the ContentInfo: refused by strict DER (the upstream only round-trips the file)",
    );

    // --- RFC 4134.
    const DSA: &str = "DSA is not in our algorithm table (RFC 8551 dropped it; no current client signs with it)";
    for file in ["4.1.bin", "4.3.bin", "4.4.bin", "4.6.bin", "4.7.bin", "4.8.eml", "4.9.eml", "4.10.bin"] {
        add(
            format!("rfc4134/{file}"),
            "default",
            Verdict::Bad { reason: "unsupported signature algorithm", encrypted: false, text: "" },
            DSA,
        );
    }
    add(
        "rfc4134/5.2.bin".into(),
        "default",
        Verdict::Error { reason: "unsupported content cipher" },
        "RC2 content encryption is not supported (40–128-bit legacy cipher)",
    );
    add(
        "rfc4134/6.0.bin".into(),
        "default",
        Verdict::Error { reason: "not signed-data" },
        "DigestedData (no signer) is not used by S/MIME mail: a clean error",
    );
    for file in ["7.1.bin", "7.2.bin"] {
        add(
            format!("rfc4134/{file}"),
            "default",
            Verdict::Error { reason: "not (auth-)enveloped" },
            "EncryptedData (pre-shared content key) is not used by S/MIME mail: a clean error",
        );
    }

    // --- smime-rs.
    let g = |name: &str| format!("tests/general/{name}");
    add(
        g("test_encrypted_ecdh_p521.eml"),
        "default",
        Verdict::Error { reason: "elliptic curve" },
        "P-521 keys are not supported (P-256 and P-384 only)",
    );
    add(
        g("test_encrypted_gcm_nonce16.eml"),
        "default",
        Verdict::Error { reason: "nonce length" },
        "AES-GCM with other than the 12-byte nonce RFC 5084 recommends is refused (OpenSSL 3.0 garbles it)",
    );
    for name in ["test_encrypted_ccm128.eml", "test_encrypted_ccm256.eml"] {
        add(
            g(name),
            "default",
            Verdict::Error { reason: "unsupported content cipher" },
            "AES-CCM is not supported (optional in smime-rs too; RFC 8551 requires GCM)",
        );
    }
    add(
        g("test_encrypted_kekri.eml"),
        "default",
        Verdict::Error { reason: "no matching recipient" },
        "KEKRecipientInfo is not supported: mail uses certificates",
    );
    add(
        g("test_encrypted_pwri.eml"),
        "default",
        Verdict::Error { reason: "no matching recipient" },
        "PasswordRecipientInfo is not supported: mail uses certificates",
    );
    add(
        g("signed-rsa-pss-wildduck.eml"),
        "default",
        Verdict::Bad { reason: "message digest mismatch", encrypted: false, text: "" },
        "no WildDuck workaround: we verify the bytes received and their CRLF form, nothing rebuilt",
    );
    add(
        "tests/pq/ml-dsa-44.eml".into(),
        "default",
        Verdict::Bad { reason: "unsupported signature algorithm", encrypted: false, text: "" },
        "ML-DSA is not supported yet",
    );
    add(
        "tests/ocsp/openssl_issuer_revoked.eml".into(),
        "default",
        Verdict::Bad { reason: "no e-mail address", encrypted: false, text: "" },
        "no OCSP: revocation comes from the caller's CRLs only, stapled OCSP responses are ignored (invalid here only because the certificate has no address)",
    );

    // --- Bouncy Castle: 2006 certificates, SHA-1 and RSA-1024/512 throughout.
    const BC: &str = "mail/src/test/resources/org/bouncycastle/mail/smime/test/";
    const SHA1_CHAIN: &str = "the chain is signed with SHA-1 (and RSA-1024), which path validation refuses even with allow_sha1 (that covers message signatures only)";
    for name in ["validator.keyUsage.eml", "validator.noEmail.eml", "validator.longValidity.eml"] {
        add(
            format!("{BC}{name}"),
            "default",
            Verdict::Bad { reason: "signed with an algorithm that is not accepted", encrypted: false, text: "" },
            SHA1_CHAIN,
        );
    }
    add(
        format!("{BC}validator.shortKey.eml"),
        "default",
        Verdict::Bad { reason: "public key cannot be read", encrypted: false, text: "" },
        "a 512-bit RSA signing key is refused outright (BC accepts it with a warning)",
    );
    add(
        format!("{BC}validator.revoked.eml"),
        "default",
        Verdict::Bad { reason: "CRL", encrypted: false, text: "" },
        "LIMITATION: webpki cannot read this 2006 CRL (TrailingData(Time)), so the certificate cannot be checked: still invalid, for another reason",
    );
    list
}
