//! A compose request to every bundled rule (`smime_proxy::fuzzing::compose_request`):
//! the first byte picks the body's content type, the first line is `METHOD PATH?QUERY`.
#![no_main]

use libfuzzer_sys::fuzz_target;

const TYPES: &[&str] = &[
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=XY",
    "application/json;charset=UTF-8",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    smime_proxy::fuzzing::compose_request(TYPES[usize::from(pick) % TYPES.len()], rest);
});
