//! RFC 5322 + MIME as the engine needs it: split a message into outer headers and body
//! entity, build `multipart/signed` and `application/pkcs7-mime`, CRLF canonicalisation.
