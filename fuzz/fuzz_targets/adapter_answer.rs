//! What a webmail answers the adapters' own requests (`smime_proxy::fuzzing::adapter_answer`):
//! the first byte picks Roundcube's import/search answers, Horde's IMP answers or compose
//! page, SOGo's draft answer and sent-folder path.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smime_proxy::fuzzing::adapter_answer(data));
