//! The page's pretrained ε-MLPs (`www/weights/ddpm_<set>/`, rebuilt by `./build.sh weights`):
//! each loads, and DDIM samples from it land on its data set. The energy distance to fresh data
//! must be a small fraction of the prior's: a model that learned nothing scores near 1.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::prelude::*;
use diffusion_playground::bundle;
use diffusion_playground::metrics::energy_distance;
use diffusion_playground::model::NetworkScore;
use diffusion_playground::noise;
use diffusion_playground::process::Process;
use diffusion_playground::sampler::{DdimSampler, Sampler, TimestepSpacing};
use diffusion_playground::train::{DataSpec, TrainData};

const N: usize = 1000;

#[test]
fn every_preset_model_samples_its_data() {
    let device = Device::flex();
    for set in [
        "mixture",
        "seeds",
        "moons",
        "swiss-roll",
        "rings",
        "checkerboard",
        "8gaussians",
    ] {
        let dir = common::repo_path(&format!("www/weights/ddpm_{set}"));
        let (net, card) = bundle::load(&dir, &device).unwrap();
        let data: TrainData = match &card.data {
            DataSpec::Mixture(m) => diffusion_playground::data::GaussianMixture::new(m.clone())
                .unwrap()
                .into(),
            DataSpec::Toy { toy } => (*toy).into(),
            other => panic!("{set}: trained on {other:?}"),
        };
        if let TrainData::Toy(t) = &data {
            assert_eq!(t.name(), set);
        }
        let x_data = data.sample(N, &mut noise::rng(1));
        let process =
            diffusion_playground::process::VpProcess::new(card.train.objective.schedule().unwrap())
                .unwrap();
        let score = NetworkScore::new(&net, card.parameterization, process.num_steps());
        let mut s = DdimSampler::new(process, 100, TimestepSpacing::Leading, 0.0, None, 2).unwrap();
        s.reset_from_prior(N, 2, &device);
        let x: Vec<f32> = s.run(&score).unwrap().into_data().try_to_vec().unwrap();
        let prior = noise::normal_vec(&mut noise::rng(3), 2 * N);
        let same = data.sample(N, &mut noise::rng(4));
        let (ed, ed0, ed_same) = (
            energy_distance(&x, &x_data, 2).unwrap(),
            energy_distance(&prior, &x_data, 2).unwrap(),
            energy_distance(&same, &x_data, 2).unwrap(),
        );
        // Two samples of 1000 from one law are 0.002 to 0.016 apart here (the estimator's
        // noise); a model must be within that band and a third of the prior's distance (the
        // rings lie close to N(0, I): 0.028).
        assert!(
            ed < 0.02 && ed < ed0 / 3.0,
            "{set}: energy distance {ed:.4}; the prior's {ed0:.4}, another data sample's {ed_same:.4}"
        );
    }
}
