//! A run's archive (the page's download) holds the model folder as `dplay train` writes it, and
//! reads back as that folder does; a folder's files missing one of the two is refused by name.

mod common;

use burn::prelude::*;

use diffusion_playground::bundle;
use diffusion_playground::io::archive::read_zip;
use diffusion_playground::io::npy;
use diffusion_playground::model::MlpConfig;
use diffusion_playground::train::{DataSpec, ModelCard, TrainConfig};

fn card() -> ModelCard {
    ModelCard {
        parameterization: Default::default(),
        train: TrainConfig::new()
            .with_model(MlpConfig::new().with_dim(2).with_hidden(8).with_depth(1)),
        data: DataSpec::Points {
            source: "test".into(),
            n: 3,
            dim: 2,
        },
        trained_steps: 7,
        final_loss: Some(0.5),
        ema: false,
    }
}

#[test]
fn a_run_archive_reads_back_as_its_folder() {
    let device = Device::flex();
    let card = card();
    let net = card.train.model.init(&device);
    let samples = [0.5f32, -1.0, 2.0, 0.25];
    let data = [0.0f32, 1.0, -1.0, 0.0];
    let zip = bundle::run_archive(&net, &card, &samples, &data, 2, &[(5, 1.5), (7, 0.5)]).unwrap();
    let files = read_zip(&zip, "run.zip").unwrap();
    let get = |name: &str| &files.iter().find(|(n, _)| n == name).unwrap().1;
    let mut names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "config.json",
            "loss.csv",
            "model.safetensors",
            "samples.csv",
            "samples.npy",
            "samples.png"
        ]
    );
    assert_eq!(
        String::from_utf8_lossy(get("loss.csv")),
        "step,loss\n5,1.5e0\n7,5e-1\n"
    );
    assert_eq!(
        String::from_utf8_lossy(get("samples.csv")),
        "x0,x1\n5e-1,-1e0\n2e0,2.5e-1\n"
    );
    let d = common::scratch("bundle_archive", "run");
    std::fs::write(d.join("s.npy"), get("samples.npy")).unwrap();
    assert_eq!(
        npy::read_f32(d.join("s.npy")).unwrap(),
        (samples.to_vec(), vec![2, 2])
    );
    // The archive, its folder and the weights written directly are one model.
    let path = d.join("run.zip");
    std::fs::write(&path, &zip).unwrap();
    let (from_zip, zcard) = bundle::load(&path, &device).unwrap();
    let (bytes, _) = bundle::to_bytes(&net, &card).unwrap();
    assert_eq!(bundle::to_bytes(&from_zip, &zcard).unwrap().0, bytes);
    assert_eq!(zcard.trained_steps, 7);
    // A damaged archive and a folder short of a file are named.
    let err = bundle::load(
        {
            std::fs::write(d.join("bad.zip"), &zip[..zip.len() / 2]).unwrap();
            d.join("bad.zip")
        },
        &device,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("not a zip archive"), "{err}");
    let names = vec!["m/config.json".to_string()];
    let err = bundle::from_files(&names, Some("{}"), None, "the folder m", &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the folder m: no model.safetensors among the files (m/config.json)"),
        "{err}"
    );
    let names = vec!["unet/diffusion_pytorch_model.safetensors".to_string()];
    let err = bundle::from_files(&names, None, None, "the folder u", &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("an image model"), "{err}");
}

/// The page reads only the files `Roles` names: a `.zip` whole, else the shallowest config.json
/// and model.safetensors of the folder.
#[test]
fn roles_pick_the_shallowest_files_or_the_archive() {
    use diffusion_playground::bundle::Roles;
    let paths = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let folder = paths(&[
        "run/samples/config.json",
        "run/model.safetensors",
        "run/config.json",
        "run/loss.csv",
    ]);
    assert_eq!(
        Roles::of(&folder),
        Roles {
            zip: None,
            config: Some(2),
            weights: Some(1)
        }
    );
    let zipped = paths(&["notes.txt", "run.ZIP", "config.json"]);
    assert_eq!(
        Roles::of(&zipped),
        Roles {
            zip: Some(1),
            config: None,
            weights: None
        }
    );
    assert_eq!(Roles::of(&paths(&["a.csv"])), Roles::default());
}
