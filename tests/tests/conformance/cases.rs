//! The rows: one per corpus file and way of running it, with the verdict its upstream
//! states (restated in `tests/data/corpora/README.md`). Paths are relative to the
//! source's folder under `tests/data/corpora/`.

use super::{Case, Key, NO_TRUST, Op, Policy, Source, Verdict};

/// Every row, grouped by source.
pub fn all() -> Vec<Case> {
    let mut cases = Vec::new();
    thunderbird(&mut cases);
    nss(&mut cases);
    openssl(&mut cases);
    rfc4134(&mut cases);
    smime_rs(&mut cases);
    bouncy_castle(&mut cases);
    cases
}

// ---------------------------------------------------------------------------------------
// Thunderbird: mailnews/mime/test/unit/test_smime_decrypt.js (column a, SHA-1 refused) and
// test_smime_decrypt_allow_sha1.js (column b), trust anchor TestCA.pem, Bob's key; the
// certificates are valid 2026-01-26 .. 2031-01-26, so verify as of mid-2026.

const TB_DIR: &str = "mailnews/test/data/smime/";
const TB_AT: &str = "2026-06-01T00:00:00Z";
const TB: Policy =
    Policy { anchors: &["mailnews/test/data/smime/TestCA.pem"], crls: &[], at: Some(TB_AT), allow_sha1: false };
const TB_SHA1: Policy = Policy { allow_sha1: true, ..TB };
const BOB: Key = Key::P12("mailnews/test/data/smime/Bob.p12", "nss");
const TB_TEXT: &str = "This is a test message from Alice to Bob.";
const FRAN_TEXT: &str = "This is a test message to Fran.";

const fn good(signer: &'static str, encrypted: bool) -> Verdict {
    Verdict::Good { signer, encrypted, text: TB_TEXT }
}
const fn bad(reason: &'static str, encrypted: bool) -> Verdict {
    Verdict::Bad { reason, encrypted, text: "" }
}
const ALICE: &str = "alice@example.com";
const DAVE: &str = "dave@example.com";
const DECRYPTS: Verdict = Verdict::Decrypts { text: TB_TEXT };
const SHA1_REFUSED: &str = "SHA-1";
const DIGEST: &str = "message digest mismatch";
const SUBSTITUTION: &str = "content substitution";

/// A Thunderbird row: column (a) with the default policy, column (b) (when the SHA-1
/// test has the file) with SHA-1 allowed.
fn tb(cases: &mut Vec<Case>, dir: &'static str, name: &'static str, a: Verdict, b: Option<Verdict>) {
    let file: &'static str = Box::leak(format!("{dir}{name}").into_boxed_str());
    let op = |policy| Op::Open { key: Some(BOB), policy };
    cases.push(Case { source: Source::Thunderbird, file, variant: "default", op: op(TB), stated: a });
    if let Some(b) = b {
        cases.push(Case { source: Source::Thunderbird, file, variant: "sha1-allowed", op: op(TB_SHA1), stated: b });
    }
}

fn thunderbird(c: &mut Vec<Case>) {
    let d = TB_DIR;
    tb(c, d, "alice.env.eml", DECRYPTS, Some(DECRYPTS));
    // Detached signatures (multipart/signed), optionally encrypted afterwards.
    tb(c, d, "alice.dsig.SHA1.multipart.bad.eml", bad(SHA1_REFUSED, false), Some(bad(DIGEST, false)));
    tb(c, d, "alice.dsig.SHA1.multipart.env.eml", bad(SHA1_REFUSED, true), Some(good(ALICE, true)));
    tb(c, d, "alice.dsig.SHA1.multipart.eml", bad(SHA1_REFUSED, false), Some(good(ALICE, false)));
    tb(
        c,
        d,
        "alice.dsig.SHA1.multipart.mismatch-econtent.eml",
        bad(SHA1_REFUSED, false),
        Some(bad(SUBSTITUTION, false)),
    );
    tb(c, d, "alice.dsig.SHA256.multipart.bad.eml", bad(DIGEST, false), Some(bad(DIGEST, false)));
    tb(c, d, "alice.dsig.SHA256.multipart.eml", good(ALICE, false), Some(good(ALICE, false)));
    tb(c, d, "alice.future.dsig.SHA256.multipart.eml", bad("Date", false), None);
    tb(c, d, "alice.dsig.SHA256.multipart.env.eml", good(ALICE, true), Some(good(ALICE, true)));
    tb(
        c,
        d,
        "alice.dsig.SHA256.multipart.mismatch-econtent.eml",
        bad(SUBSTITUTION, false),
        Some(bad(SUBSTITUTION, false)),
    );
    tb(c, d, "alice.dsig.SHA384.multipart.bad.eml", bad(DIGEST, false), Some(bad(DIGEST, false)));
    tb(c, d, "alice.dsig.SHA384.multipart.eml", good(ALICE, false), Some(good(ALICE, false)));
    tb(c, d, "alice.dsig.SHA384.multipart.env.eml", good(ALICE, true), Some(good(ALICE, true)));
    tb(
        c,
        d,
        "alice.dsig.SHA384.multipart.mismatch-econtent.eml",
        bad(SUBSTITUTION, false),
        Some(bad(SUBSTITUTION, false)),
    );
    tb(c, d, "alice.dsig.SHA512.multipart.bad.eml", bad(DIGEST, false), Some(bad(DIGEST, false)));
    tb(c, d, "alice.dsig.SHA512.multipart.eml", good(ALICE, false), Some(good(ALICE, false)));
    tb(c, d, "alice.dsig.SHA512.multipart.env.eml", good(ALICE, true), Some(good(ALICE, true)));
    tb(
        c,
        d,
        "alice.dsig.SHA512.multipart.mismatch-econtent.eml",
        bad(SUBSTITUTION, false),
        Some(bad(SUBSTITUTION, false)),
    );
    // Opaque signatures (application/pkcs7-mime signed-data), optionally encrypted.
    tb(c, d, "alice.sig.SHA1.opaque.eml", bad(SHA1_REFUSED, false), Some(good(ALICE, false)));
    tb(c, d, "alice.sig.SHA1.opaque.env.eml", bad(SHA1_REFUSED, true), Some(good(ALICE, true)));
    for (plain, env) in [
        ("alice.sig.SHA256.opaque.eml", "alice.sig.SHA256.opaque.env.eml"),
        ("alice.sig.SHA384.opaque.eml", "alice.sig.SHA384.opaque.env.eml"),
        ("alice.sig.SHA512.opaque.eml", "alice.sig.SHA512.opaque.env.eml"),
    ] {
        tb(c, d, plain, good(ALICE, false), Some(good(ALICE, false)));
        tb(c, d, env, good(ALICE, true), Some(good(ALICE, true)));
    }
    // Encrypt-then-sign: Thunderbird ignores a signature whose direct child is encryption.
    for name in [
        "alice.env.sig.SHA1.opaque.eml",
        "alice.env.dsig.SHA1.multipart.eml",
        "alice.env.sig.SHA256.opaque.eml",
        "alice.env.dsig.SHA256.multipart.eml",
        "alice.env.sig.SHA384.opaque.eml",
        "alice.env.dsig.SHA384.multipart.eml",
        "alice.env.sig.SHA512.opaque.eml",
        "alice.env.dsig.SHA512.multipart.eml",
    ] {
        tb(c, d, name, DECRYPTS, Some(DECRYPTS));
    }
    // Manually crafted nestings (smime-manual/; not in the SHA-1 test).
    let m = "mailnews/test/data/smime-manual/";
    tb(c, m, "alice.env.mixed.dsig.SHA256.multipart.eml", bad("", false), None);
    tb(c, m, "alice.dsig.SHA256.multipart.env.dsig.eml", good(ALICE, true), None);
    tb(c, m, "outer-smime-bad-sig-inner-smime-enc-sig.eml", good(ALICE, true), None);
    tb(c, m, "outer-smime-bad-sig-inner-smime-enc.eml", DECRYPTS, None);
    // Re-signed by Dave: Thunderbird reports the outer signer, and does not descend into
    // the envelope below two signatures ("not reported as encrypted").
    tb(c, d, "alice.env.sig.SHA1.opaque.dave.sig.SHA1.opaque.eml", bad(SHA1_REFUSED, false), Some(good(DAVE, false)));
    tb(c, d, "alice.env.dsig.SHA1.multipart.dave.sig.SHA1.opaque.eml", bad(SHA1_REFUSED, false), Some(bad("", false)));
    tb(c, d, "alice.plain.sig.SHA1.opaque.dave.sig.SHA1.opaque.eml", bad(SHA1_REFUSED, false), Some(good(DAVE, false)));
    tb(
        c,
        d,
        "alice.plain.dsig.SHA1.multipart.dave.sig.SHA1.opaque.eml",
        bad(SHA1_REFUSED, false),
        Some(bad("", false)),
    );
    tb(
        c,
        d,
        "alice.plain.sig.SHA1.opaque.dave.dsig.SHA1.multipart.eml",
        bad(SHA1_REFUSED, false),
        Some(bad("", false)),
    );
    tb(
        c,
        d,
        "alice.plain.dsig.SHA1.multipart.dave.dsig.SHA1.multipart.eml",
        bad(SHA1_REFUSED, false),
        Some(bad("", false)),
    );
    for sha in ["SHA256", "SHA384", "SHA512"] {
        let name = |pattern: &str| -> &'static str { Box::leak(pattern.replace("SHA", sha).into_boxed_str()) };
        tb(c, d, name("alice.env.sig.SHA.opaque.dave.sig.SHA.opaque.eml"), good(DAVE, false), Some(good(DAVE, false)));
        tb(c, d, name("alice.env.dsig.SHA.multipart.dave.sig.SHA.opaque.eml"), bad("", false), Some(bad("", false)));
        tb(
            c,
            d,
            name("alice.plain.sig.SHA.opaque.dave.sig.SHA.opaque.eml"),
            good(DAVE, false),
            Some(good(DAVE, false)),
        );
        tb(c, d, name("alice.plain.dsig.SHA.multipart.dave.sig.SHA.opaque.eml"), bad("", false), Some(bad("", false)));
        tb(c, d, name("alice.plain.sig.SHA.opaque.dave.dsig.SHA.multipart.eml"), bad("", false), Some(bad("", false)));
        tb(
            c,
            d,
            name("alice.plain.dsig.SHA.multipart.dave.dsig.SHA.multipart.eml"),
            bad("", false),
            Some(bad("", false)),
        );
    }
    // OpenSSL-made envelopes for Fran (smime-interop/, MIME-wrapped NSS files).
    let i = "mailnews/test/data/smime-interop/";
    for (name, key) in [
        ("fran-oaep_ossl.env", "Fran.p12"),
        ("fran-oaep-label_ossl.env", "Fran.p12"),
        ("fran-oaep-sha256hash_ossl.env", "Fran.p12"),
        ("fran-oaep-sha256hash-sha256mgf_ossl.env", "Fran.p12"),
        ("fran-ec_ossl-aes128-sha256.env", "Fran-ec.p12"),
        ("fran-ec_ossl-aes256-sha512.env", "Fran-ec.p12"),
    ] {
        let file: &'static str = Box::leak(format!("{i}{name}").into_boxed_str());
        let key = Key::P12(Box::leak(format!("{i}{key}").into_boxed_str()), "nss");
        let op = Op::Open { key: Some(key), policy: TB };
        c.push(Case {
            source: Source::Thunderbird,
            file,
            variant: "default",
            op,
            stated: Verdict::Decrypts { text: FRAN_TEXT },
        });
    }
    // browser_displayVarious.js: the text must be displayed (SHA-256 variants; the others
    // have no stated expectation and are checked as OpenSSL reads them, SHA-1 allowed).
    tb(c, d, "alice.html.sig.SHA256.opaque.eml", good(ALICE, false), None);
    tb(c, d, "alice.html.sig.SHA256.opaque.env.eml", good(ALICE, true), None);
    for (name, encrypted) in [
        ("alice.html.sig.SHA1.opaque.eml", false),
        ("alice.html.sig.SHA1.opaque.env.eml", true),
        ("alice.html.sig.SHA384.opaque.eml", false),
        ("alice.html.sig.SHA384.opaque.env.eml", true),
        ("alice.html.sig.SHA512.opaque.eml", false),
        ("alice.html.sig.SHA512.opaque.env.eml", true),
    ] {
        let file: &'static str = Box::leak(format!("{d}{name}").into_boxed_str());
        let op = Op::Open { key: Some(BOB), policy: TB_SHA1 };
        c.push(Case { source: Source::Thunderbird, file, variant: "sha1-allowed", op, stated: good(ALICE, encrypted) });
    }
    // Mochitests of mail/test/browser/smime/.
    let b = "mail/test/browser/smime/data/";
    tb(c, b, "alice.dsig.SHA256.multipart.in.mixed.eml", good(ALICE, false), None);
    tb(c, b, "alice.dsig.SHA256.multipart.in.mixed.with.header.eml", good(ALICE, false), None);
    tb(c, b, "multipart-alternative.eml", Verdict::Unprotected { absent: "SECRET-TEXT" }, None);
    tb(c, b, "nested-sigs.eml", Verdict::Bad { reason: "", encrypted: false, text: "level 2" }, None);
}

// ---------------------------------------------------------------------------------------
// NSS tests/smime/smime.sh, smime_enveloped_openssl_interop: `cmsutil -D` must give the text.

fn nss(c: &mut Vec<Case>) {
    let dir = "tests/smime/interop-openssl/";
    for name in [
        "fran-oaep_ossl.env",
        "fran-oaep-sha256hash_ossl.env",
        "fran-oaep-sha384hash_ossl.env",
        "fran-oaep-sha512hash_ossl.env",
        "fran-oaep-sha256mgf_ossl.env",
        "fran-oaep-sha384mgf_ossl.env",
        "fran-oaep-sha512mgf_ossl.env",
        "fran-oaep-label_ossl.env",
        "fran-oaep-sha256hash-sha256mgf_ossl.env",
        "fran-oaep-sha256hash-label_ossl.env",
        "fran-oaep-sha256mgf-label_ossl.env",
        "fran-oaep_ossl-sha256hash-sha256mgf-label.env",
        "fran-ec_ossl-aes128-sha1.env",
        "fran-ec_ossl-aes128-sha224.env",
        "fran-ec_ossl-aes128-sha256.env",
        "fran-ec_ossl-aes192-sha384.env",
        "fran-ec_ossl-aes256-sha512.env",
    ] {
        let p12 = if name.starts_with("fran-ec") { "Fran-ec.p12" } else { "Fran.p12" };
        let key = Key::P12(Box::leak(format!("{dir}{p12}").into_boxed_str()), "nss");
        let file: &'static str = Box::leak(format!("{dir}{name}").into_boxed_str());
        c.push(Case {
            source: Source::Nss,
            file,
            variant: "default",
            op: Op::Decrypt { key },
            stated: Verdict::Decrypts { text: "This is a test message to Fran.\n" },
        });
    }
}

// ---------------------------------------------------------------------------------------
// OpenSSL: test/recipes/80-test_cms.t, 80-test_cmsapi.t (cmsapitest.c), 25-test_pkcs7.t,
// 25-test_d2i.t. Mostly malformed input: a clean error, never a panic.

fn openssl(c: &mut Vec<Case>) {
    const SMROOT: Policy = Policy { anchors: &["test/smime-certs/smroot.pem"], ..NO_TRUST };
    const SMRSA1: Key = Key::Pem("test/smime-certs/smrsa1.pem", "test/smime-certs/smrsa1.pem");
    let cms = "test/recipes/80-test_cms_data/";
    let api = "test/recipes/80-test_cmsapi_data/";
    let f = |dir: &str, name: &str| -> &'static str { Box::leak(format!("{dir}{name}").into_boxed_str()) };
    let mut row = |file: &'static str, op: Op, stated: Verdict| {
        c.push(Case { source: Source::OpenSsl, file, variant: "default", op, stated });
    };
    let verify = Op::Verify { detached: None, policy: SMROOT };
    row(f(cms, "bad_signtime_attr.cms"), verify, Verdict::Fails);
    row(f(cms, "no_ct_attr.cms"), verify, Verdict::Bad { reason: "content-type", encrypted: false, text: "" });
    row(f(cms, "no_md_attr.cms"), verify, Verdict::Bad { reason: "message-digest", encrypted: false, text: "" });
    row(f(cms, "ct_multiple_attr.cms"), verify, Verdict::Bad { reason: "content-type", encrypted: false, text: "" });
    row(
        f(cms, "ciphertext_from_1_1_1.cms"),
        Op::Open { key: Some(Key::Pem("test/smime-certs/smec3.pem", "test/smime-certs/smec3.pem")), policy: NO_TRUST },
        Verdict::Decrypts {
            text: "Somewhat longer test content for OpenSSL CMS utility to handle, and a bit longer...",
        },
    );
    // AuthEnvelopedData (AES-128-GCM) made by Bouncy Castle for a KEK recipient.
    row(
        f(cms, "authenveloped_attrs.pem"),
        Op::Decrypt { key: SMRSA1 },
        Verdict::Decrypts { text: "Hello AuthEnvelopedData world\n" },
    );
    row(f(cms, "bad_authenveloped_attrs.pem"), Op::Decrypt { key: SMRSA1 }, Verdict::Error { reason: "" });
    row(f(cms, "authenticated_attrs.pem"), Op::Decrypt { key: SMRSA1 }, Verdict::Parses { certificates: 0 });
    // X9.42 DH keys cannot be loaded at all; another identity makes the malformed
    // envelope itself be read.
    row(f(cms, "dh-malformed.der"), Op::Decrypt { key: SMRSA1 }, Verdict::Error { reason: "" });
    let ecdh = Key::Pem("test/recipes/80-test_cms_data/ecdh-key.pem", "test/recipes/80-test_cms_data/ecdh-cert.pem");
    row(f(cms, "ecdh-malformed.der"), Op::Decrypt { key: ecdh }, Verdict::Error { reason: "" });
    let rsa3 = Key::Pem("test/smime-certs/smrsa3-key.pem", "test/smime-certs/smrsa3-cert.pem");
    row(f(cms, "rsa-malformed.der"), Op::Decrypt { key: rsa3 }, Verdict::Error { reason: "" });
    row(f(cms, "pkcs7-md4.pem"), Op::Verify { detached: None, policy: NO_TRUST }, Verdict::Fails);
    let ee = Key::Pem("test/certs/ee-key.pem", "test/certs/ee-cert.pem");
    row(f(cms, "pkcs7-md4-encrypted.pem"), Op::Decrypt { key: ee }, Verdict::Error { reason: "" });
    row("test/smime-eml/pkcs7-empty-digest-set.eml", Op::Open { key: None, policy: NO_TRUST }, Verdict::Fails);
    row(
        "test/smime-eml/SignedInvalidMappingFromanyPolicyTest7.eml",
        Op::Open { key: None, policy: Policy { anchors: &["test/certs/pkitsta.pem"], ..NO_TRUST } },
        Verdict::Fails,
    );
    row(
        "test/cms-msg/enveloped-content-type-for-aes-gcm.pem",
        Op::Decrypt { key: SMRSA1 },
        Verdict::Error { reason: "" },
    );
    row("test/cms-msg/missing-kdf.der", Op::Decrypt { key: SMRSA1 }, Verdict::Error { reason: "" });
    row(f(api, "encryptedData.der"), Op::Decrypt { key: SMRSA1 }, Verdict::Parses { certificates: 0 });
    let server = Key::Pem("test/certs/serverkey.pem", "test/certs/servercert.pem");
    row(f(api, "encDataWithTooLongIV.pem"), Op::Decrypt { key: server }, Verdict::Error { reason: "" });
    row(f(api, "cms_pwri_kek_oob.der"), Op::Decrypt { key: SMRSA1 }, Verdict::Error { reason: "" });
    row(f(api, "cms_pwri_kek_NoIV.der"), Op::Decrypt { key: SMRSA1 }, Verdict::Error { reason: "" });
    row("test/d2i-tests/bad-cms.der", Op::Verify { detached: None, policy: NO_TRUST }, Verdict::Error { reason: "" });
    row("test/recipes/25-test_pkcs7_data/malformed.pkcs7", Op::CertsOnly, Verdict::Parses { certificates: 0 });
    row("test/testp7.pem", Op::CertsOnly, Verdict::Parses { certificates: 2 });
    row("test/pkcs7-1.pem", Op::CertsOnly, Verdict::Parses { certificates: 1 });
    row("test/pkcs7.pem", Op::CertsOnly, Verdict::Parses { certificates: 2 });
}

// ---------------------------------------------------------------------------------------
// RFC 4134 (bc-test-data/rfc4134/), expectations from the RFC and bc-java's Rfc4134Test,
// which checks each signature with the signer's certificate (no path validation). All
// signatures are SHA-1, so SHA-1 is allowed here.

fn rfc4134(c: &mut Vec<Case>) {
    const CARL: Policy = Policy { anchors: &["rfc4134/CarlRSASelf.cer"], crls: &[], at: None, allow_sha1: true };
    const CONTENT: &str = "This is some sample content.";
    const BOB_4134: Key = Key::Der("rfc4134/BobPrivRSAEncrypt.pri", "rfc4134/BobRSASignByCarl.cer");
    let verifies = Verdict::SignatureVerifies { signer: None, text: CONTENT };
    let mut row = |file: &'static str, op: Op, stated: Verdict| {
        c.push(Case { source: Source::Rfc4134, file, variant: "default", op, stated });
    };
    let data = Op::DataContent { content: "rfc4134/ExContent.bin" };
    row("rfc4134/3.1.bin", data, Verdict::Parses { certificates: 0 });
    row("rfc4134/3.2.bin", data, Verdict::Parses { certificates: 0 });
    let verify = Op::Verify { detached: None, policy: CARL };
    for file in ["rfc4134/4.1.bin", "rfc4134/4.2.bin", "rfc4134/4.4.bin", "rfc4134/4.5.bin", "rfc4134/4.6.bin"] {
        row(file, verify, verifies);
    }
    row("rfc4134/4.3.bin", Op::Verify { detached: Some("rfc4134/ExContent.bin"), policy: CARL }, verifies);
    row("rfc4134/4.7.bin", verify, verifies);
    row("rfc4134/4.8.eml", Op::Open { key: None, policy: CARL }, verifies);
    row("rfc4134/4.9.eml", Op::Open { key: None, policy: CARL }, verifies);
    row("rfc4134/4.10.bin", verify, verifies);
    row("rfc4134/4.11.bin", Op::CertsOnly, Verdict::Parses { certificates: 2 });
    let decrypts = Verdict::Decrypts { text: CONTENT };
    row("rfc4134/5.1.bin", Op::Decrypt { key: BOB_4134 }, decrypts);
    row("rfc4134/5.2.bin", Op::Decrypt { key: BOB_4134 }, decrypts);
    row("rfc4134/5.3.eml", Op::Open { key: Some(BOB_4134), policy: CARL }, decrypts);
    // DigestedData: "the digest verifies".
    row("rfc4134/6.0.bin", verify, verifies);
    row("rfc4134/7.1.bin", Op::Decrypt { key: BOB_4134 }, decrypts);
    row("rfc4134/7.2.bin", Op::Decrypt { key: BOB_4134 }, decrypts);
}

// ---------------------------------------------------------------------------------------
// smime-rs: tests/decrypt_interop.rs, cryptography_interop.rs, general_interop.rs,
// ocsp_interop.rs (its checks are cryptographic: signature and message digest).

fn smime_rs(c: &mut Vec<Case>) {
    const RSA: Key = Key::Pem("tests/keys/test_rsa.key", "tests/keys/test_rsa.pem");
    const P256: Key = Key::Pem("tests/keys/test_p256.key", "tests/keys/test_p256.pem");
    const P384: Key = Key::Pem("tests/keys/test_p384.key", "tests/keys/test_p384.pem");
    const P521: Key = Key::Pem("tests/keys/test_p521.key", "tests/keys/test_p521.pem");
    const FIXTURE: &str = "OpenSSL-generated test fixture";
    let g = |name: &str| -> &'static str { Box::leak(format!("tests/general/{name}").into_boxed_str()) };
    let mut row = |file: &'static str, variant: &'static str, op: Op, stated: Verdict| {
        c.push(Case { source: Source::SmimeRs, file, variant, op, stated });
    };
    let open = |key| Op::Open { key: Some(key), policy: NO_TRUST };
    let decrypts = |text| Verdict::Decrypts { text };
    for name in [
        "test_encrypted_rsa_aes128.eml",
        "test_encrypted_rsa_aes192.eml",
        "test_encrypted_rsa_aes256.eml",
        "test_encrypted_oaep.eml",
        "test_encrypted_oaep384.eml",
        "test_encrypted_oaep512.eml",
        "test_encrypted_oaep_sha1.eml",
        "test_encrypted_oaep_mgf1_mismatch.eml",
        "test_encrypted_oaep_aes128.eml",
        "test_encrypted_oaep_aes192.eml",
        "test_encrypted_gcm128.eml",
        "test_encrypted_gcm192.eml",
        "test_encrypted_gcm256.eml",
    ] {
        row(g(name), "default", open(RSA), decrypts(FIXTURE));
    }
    row(g("test_encrypted_3des.eml"), "default", open(RSA), decrypts("This is a 3DES-CBC encrypted test message."));
    row(g("test_encrypted_ecdh.eml"), "default", open(P256), decrypts(FIXTURE));
    row(g("test_encrypted_ecdh_p384.eml"), "default", open(P384), decrypts(FIXTURE));
    row(g("test_encrypted_ecdh_p521.eml"), "default", open(P521), decrypts(FIXTURE));
    for name in ["test_encrypted_ecdh_aes128.eml", "test_encrypted_ecdh_wrap192.eml", "test_encrypted_ecdh_wrap256.eml"]
    {
        row(g(name), "default", open(P256), decrypts(FIXTURE));
    }
    row(g("test_encrypted_multi_recipient.eml"), "RSA key", open(RSA), decrypts(FIXTURE));
    row(g("test_encrypted_multi_recipient.eml"), "P-256 key", open(P256), decrypts(FIXTURE));
    row(g("test_encrypted_gcm256_ecdh.eml"), "default", open(P256), decrypts(FIXTURE));
    row(g("test_encrypted_gcm_icvlen12.eml"), "default", open(RSA), decrypts("AES-GCM ICVlen 12 test"));
    row(g("test_encrypted_gcm_nonce16.eml"), "default", open(RSA), decrypts("AES-GCM 16-byte nonce test"));
    row(g("test_encrypted_ccm128.eml"), "default", open(RSA), decrypts("AES-CCM AuthEnvelopedData test"));
    row(g("test_encrypted_ccm256.eml"), "default", open(RSA), decrypts("AES-CCM AuthEnvelopedData test"));
    row(g("test_encrypted_kekri.eml"), "default", open(RSA), decrypts(""));
    row(g("test_encrypted_pwri.eml"), "default", open(RSA), decrypts(""));
    row(g("test_encrypted_ktri_bad_version.eml"), "default", open(RSA), decrypts("Multi-recipient-type test"));
    // The X25519 private key is not available; the stated RSA-key case: a clean failure.
    for name in ["test_encrypted_x25519.eml", "test_encrypted_x25519_hkdf256.eml", "test_encrypted_x25519_hkdf384.eml"]
    {
        row(g(name), "RSA key", open(RSA), Verdict::Error { reason: "" });
    }

    let plain = Op::Open { key: None, policy: NO_TRUST };
    let verifies = |signer, text| Verdict::SignatureVerifies { signer, text };
    let bad = |reason| Verdict::Bad { reason, encrypted: false, text: "" };
    row("tests/cve-2018-18509/eContentConfusion.eml", "default", plain, bad(""));
    row(g("test_sig_rsa_sha256.eml"), "default", plain, verifies(None, "RSA signature test"));
    row(g("test_sig_rsa_pss_sha384.eml"), "default", plain, verifies(None, "RSA signature test"));
    row(g("ed25519.eml"), "default", plain, verifies(None, "Hello from Ed25519!"));
    row(g("ed25519-sha256-digest.eml"), "default", plain, verifies(None, ""));
    row(g("test_sig_ed448.eml"), "default", plain, bad(""));
    row(g("no-auth-attrs.eml"), "default", plain, verifies(None, ""));
    row(g("no-message-digest-attr.eml"), "default", plain, bad("message-digest"));
    row(g("duplicate-signed-attrs.eml"), "default", plain, bad(""));
    row(g("rsa-params-absent.eml"), "default", plain, verifies(None, ""));
    row(g("ess-signing-cert.eml"), "default", plain, verifies(None, ""));
    row(
        g("email-address-dn.eml"),
        "default",
        Op::Open { key: None, policy: Policy { anchors: &["tests/general/email-address-dn-cert.pem"], ..NO_TRUST } },
        Verdict::Good { signer: "anu@naide.ee", encrypted: false, text: "" },
    );
    row(g("sha1.eml"), "default", plain, bad("SHA-1"));
    row(g("signed-rsa-pss.eml"), "default", plain, verifies(Some("taavi@zone.ee"), ""));
    row(g("signed-rsa-pss-wildduck.eml"), "default", plain, verifies(Some("taavi@zone.ee"), ""));
    row(g("test_1_utf8_idn_signed.eml"), "default", plain, verifies(Some("lõks@näide.ee"), ""));
    row(g("unsupported-digest-alg.eml"), "default", plain, bad("unsupported digest algorithm"));
    row(g("pkcs7-mime.eml"), "default", plain, Verdict::Fails);
    row("tests/rfc4134/4.2-signed-rsa-no-attrs.eml", "default", plain, bad("SHA-1"));
    row("tests/rfc4134/4.5-signed-rsa-all.eml", "default", plain, bad("SHA-1"));
    row(
        "tests/pq/ml-dsa-44.eml",
        "default",
        plain,
        verifies(None, "ML-DSA-44 signed-data example with signed attributes"),
    );
    let ocsp = Op::Open { key: None, policy: Policy { anchors: &["tests/ocsp/root_ca.pem"], ..NO_TRUST } };
    // Trust and signature are checked there, not the From address (the signer
    // certificate has none).
    row("tests/ocsp/openssl_issuer_good.eml", "default", ocsp, verifies(None, ""));
    row("tests/ocsp/openssl_issuer_revoked.eml", "default", ocsp, bad("revoked"));
    row("tests/ocsp/stapled_issuer_good.eml", "default", ocsp, verifies(None, ""));
}

// ---------------------------------------------------------------------------------------
// Bouncy Castle SignedMailValidatorTest: anchor validator.root.crt, validated as of each
// message's signing time (all certificates expired since), SHA-1 throughout.

fn bouncy_castle(c: &mut Vec<Case>) {
    const DIR: &str = "mail/src/test/resources/org/bouncycastle/mail/smime/test/";
    const ROOT: &[&str] = &["mail/src/test/resources/org/bouncycastle/mail/smime/test/validator.root.crt"];
    const SIGNER: &str = "arminha@student.ethz.ch";
    let mut row = |name: &str, at: &'static str, crls: &'static [&'static str], stated: Verdict| {
        let file: &'static str = Box::leak(format!("{DIR}{name}").into_boxed_str());
        let policy = Policy { anchors: ROOT, crls, at: Some(at), allow_sha1: true };
        c.push(Case {
            source: Source::BouncyCastle,
            file,
            variant: "default",
            op: Op::Open { key: None, policy },
            stated,
        });
    };
    let good = Verdict::Good { signer: SIGNER, encrypted: false, text: "" };
    let bad = |reason| Verdict::Bad { reason, encrypted: false, text: "" };
    row("validator.shortKey.eml", "2006-08-28T15:05:26Z", &[], good);
    row("validator.keyUsage.eml", "2006-08-28T12:52:38Z", &[], bad("key usage"));
    row("validator.extKeyUsage.eml", "2006-08-28T15:01:37Z", &[], bad("extended key usage"));
    row("validator.noEmail.eml", "2006-08-28T15:02:56Z", &[], bad("no e-mail address"));
    row("validator.notYetValid.eml", "2006-08-28T15:04:01Z", &[], bad("not yet valid"));
    row("validator.expired.eml", "2006-09-01T09:08:35Z", &[], bad("expired"));
    row(
        "validator.revoked.eml",
        "2006-09-01T10:49:05Z",
        &["mail/src/test/resources/org/bouncycastle/mail/smime/test/validator.revoked.crl"],
        bad("revoked"),
    );
    row("validator.longValidity.eml", "2006-09-01T12:01:23Z", &[], good);
}
