//! What a key server reads from the network and a client reads from a server: OPAQUE
//! messages (KE1, KE3, registration request and upload), envelopes, and the JSON bodies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smime_keyserver::{envelope, opaque, wire};

fuzz_target!(|data: &[u8]| {
    let _ = opaque::check_ke1(data);
    let _ = opaque::registration_record(data);
    let _ = opaque::check_registration_request(data);
    let _ = opaque::finish_login(data, data);
    let _ = envelope::Header::parse(data);
    let _ = envelope::open(data, &[0; 64], &[0; 16], 0);
    let _ = serde_json::from_slice::<wire::LoginStart>(data);
    let _ = serde_json::from_slice::<wire::RegisterFinish>(data);
    let _ = serde_json::from_slice::<wire::Session>(data);
    let _ = serde_json::from_slice::<wire::Audit>(data);
    let _ = serde_json::from_slice::<wire::PasswordStart>(data);
    let _ = serde_json::from_slice::<wire::PasswordStarted>(data);
    let _ = serde_json::from_slice::<wire::PasswordFinish>(data);
});
