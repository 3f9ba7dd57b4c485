#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| beaconstat_fuzz::reader(data));
