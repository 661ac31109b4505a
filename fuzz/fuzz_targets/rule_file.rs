//! A rule file (`smime_proxy::fuzzing::rule_file`): TOML, selectors, path globs, JSON
//! paths and URL templates; an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        smime_proxy::fuzzing::rule_file(text);
    }
});
