//! A request to the proxy's own origin as another origin's page can shape it
//! (`smime_proxy::fuzzing::own_origin_request`): headers, a blank line, the form body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smime_proxy::fuzzing::own_origin_request(data));
