#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    diffusion_playground::fuzz_targets::run("idx", data).expect("a known target");
});
