#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    diffusion_playground::fuzz_targets::run("cifar", data).expect("a known target");
});
