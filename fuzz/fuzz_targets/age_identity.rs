#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gitseal_fuzz::age_identity(data));
