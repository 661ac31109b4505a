//! ECDH key agreement recipients (KeyAgreeRecipientInfo, RFC 5753 §3.1 and RFC 5652
//! §6.2.2): ephemeral-static ECDH on P-256/P-384, the ANSI X9.63 KDF over
//! ECC-CMS-SharedInfo, AES key wrap (RFC 3394). Written here because the `cms` crate's
//! builder wraps the content key under an all-zero key.
