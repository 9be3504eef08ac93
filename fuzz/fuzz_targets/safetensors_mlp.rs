#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    diffusion_playground::fuzz_targets::run("safetensors_mlp", data).expect("a known target");
});
