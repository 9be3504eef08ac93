#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    diffusion_playground::fuzz_targets::run("train_options", data).expect("a known target");
});
