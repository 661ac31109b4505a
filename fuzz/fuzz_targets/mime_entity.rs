//! The MIME reader on arbitrary bytes: header splitting, Content-Type parameters,
//! transfer decoding and multipart splitting never panic, and every part it returns
//! lies inside the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smime_crypto::mime::{Entity, canonicalize_crlf, split_multipart};

fuzz_target!(|data: &[u8]| {
    let Ok(entity) = Entity::parse(data) else { return };
    for field in &entity.fields {
        let _ = field.value();
    }
    let content_type = entity.content_type();
    let _ = entity.decoded_body();
    let _ = canonicalize_crlf(entity.body);
    if let Some(boundary) = content_type.param("boundary")
        && let Ok(parts) = split_multipart(entity.body, boundary)
    {
        let body = entity.body.as_ptr_range();
        for part in parts {
            let range = part.as_ptr_range();
            assert!(range.start >= body.start && range.end <= body.end, "part outside the body");
        }
    }
});
