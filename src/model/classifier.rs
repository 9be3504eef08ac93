//! A small convolutional digit classifier, the judge of generated digits: two stride-2 3×3
//! convolutions (1→16→32 channels, 28→14→7), a 64-unit hidden layer and 10 logits. Trained with
//! cross-entropy on the same digits the UNet learns from, it labels samples; a sample counts as a
//! recognisable digit when the classifier's top probability exceeds 0.9.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::{relu, softmax};

use crate::data::images::ImageSet;
use crate::error::{Error, Result};
use crate::noise;

pub const CLASSES: usize = 10;
const SIDE: usize = 28;

#[derive(Module, Debug)]
pub struct DigitClassifier {
    conv1: Conv2d,
    conv2: Conv2d,
    hidden: Linear,
    out: Linear,
}

impl DigitClassifier {
    pub fn new(device: &Device) -> Self {
        let conv = |cin, cout| {
            Conv2dConfig::new([cin, cout], [3, 3])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        Self {
            conv1: conv(1, 16),
            conv2: conv(16, 32),
            hidden: LinearConfig::new(32 * 7 * 7, 64).init(device),
            out: LinearConfig::new(64, CLASSES).init(device),
        }
    }

    /// Logits `[n, 10]` for images `[n, 1, 28, 28]` in `[-1, 1]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let [n, _, _, _] = x.dims();
        let h = relu(self.conv1.forward(x));
        let h = relu(self.conv2.forward(h));
        let h = relu(self.hidden.forward(h.reshape([n, 32 * 7 * 7])));
        self.out.forward(h)
    }

    /// Class probabilities `[n, 10]`.
    pub fn probabilities(&self, x: Tensor<4>) -> Tensor<2> {
        softmax(self.forward(x), 1)
    }
}

/// How the classifier is trained.
#[derive(Config, Debug)]
pub struct ClassifierConfig {
    #[config(default = 2000)]
    pub steps: usize,
    #[config(default = 128)]
    pub batch_size: usize,
    #[config(default = 1e-3)]
    pub lr: f64,
    /// Images held out (a seeded random subset) to measure accuracy.
    #[config(default = 1000)]
    pub held_out: usize,
    #[config(default = 0)]
    pub seed: u64,
}

impl ClassifierConfig {
    pub fn validate(&self) -> Result<()> {
        if self.steps == 0 || self.batch_size == 0 {
            return Err(Error::invalid(
                "the classifier's steps and batch size must be at least 1",
            ));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Error::invalid(format!(
                "the classifier's learning rate must be positive, got {}",
                self.lr
            )));
        }
        Ok(())
    }
}

/// A trained classifier and its accuracy on the held-out images.
pub struct TrainedClassifier {
    pub model: DigitClassifier,
    pub held_out_accuracy: f64,
}

/// Train on labelled 28×28 one-channel digits.
pub fn train_classifier(
    data: &ImageSet,
    config: &ClassifierConfig,
    device: &Device,
) -> Result<TrainedClassifier> {
    config.validate()?;
    let labels = data
        .labels
        .as_ref()
        .ok_or_else(|| Error::invalid("the classifier needs labelled digits"))?;
    if (data.channels, data.height, data.width) != (1, SIDE, SIDE) {
        return Err(Error::invalid(format!(
            "the classifier takes 1×28×28 digits, not {}×{}×{}",
            data.channels, data.height, data.width
        )));
    }
    if data.len() <= config.held_out + 1 {
        return Err(Error::invalid(format!(
            "{} images leave none to train on after holding out {}",
            data.len(),
            config.held_out
        )));
    }
    let mut rng = noise::rng(config.seed);
    let mut order: Vec<usize> = (0..data.len()).collect();
    rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut rng);
    let (test, train) = order.split_at(config.held_out);
    let ad = device.clone().autodiff();
    ad.seed(config.seed);
    let mut model = DigitClassifier::new(&ad);
    let mut optim = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(&ad);
    for _ in 0..config.steps {
        let idx = noise::uniform_steps(&mut rng, config.batch_size, train.len());
        let rows: Vec<usize> = idx.into_iter().map(|i| train[i]).collect();
        let (x, y) = batch(data, labels, &rows, &ad);
        let loss = loss_fn.forward(model.forward(x), y);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(config.lr, model, grads);
    }
    let model = model.valid();
    let mut correct = 0usize;
    for chunk in test.chunks(500) {
        let (x, _) = batch(data, labels, chunk, device);
        let p = to_rows(model.probabilities(x))?;
        correct += p
            .iter()
            .zip(chunk)
            .filter(|(row, &i)| argmax(row).0 == labels[i] as usize)
            .count();
    }
    Ok(TrainedClassifier {
        model,
        held_out_accuracy: correct as f64 / test.len().max(1) as f64,
    })
}

fn batch(
    data: &ImageSet,
    labels: &[u8],
    rows: &[usize],
    device: &Device,
) -> (Tensor<4>, Tensor<1, Int>) {
    let x: Vec<f32> = rows.iter().flat_map(|&i| data.image_f32(i)).collect();
    let y: Vec<i64> = rows.iter().map(|&i| labels[i] as i64).collect();
    let n = rows.len();
    (
        Tensor::from_data(TensorData::new(x, [n, 1, SIDE, SIDE]), device),
        Tensor::from_data(TensorData::new(y, [n]), device),
    )
}

/// Rows of a `[n, k]` tensor, read synchronously.
pub fn to_rows(p: Tensor<2>) -> Result<Vec<Vec<f32>>> {
    let [_, k] = p.dims();
    let v = p
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Device(format!("{e:?}")))?;
    Ok(v.chunks_exact(k).map(<[f32]>::to_vec).collect())
}

/// (index, value) of the largest entry.
pub fn argmax(row: &[f32]) -> (usize, f32) {
    row.iter()
        .copied()
        .enumerate()
        .fold((0, f32::MIN), |b, (i, v)| if v > b.1 { (i, v) } else { b })
}

/// How a classifier judges generated digits.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DigitVerdict {
    pub n: usize,
    /// Fraction labelled with top probability above `threshold`.
    pub confident: f64,
    pub threshold: f64,
    /// How many samples got each label (confident or not).
    pub histogram: [usize; CLASSES],
}

/// Judge `x` `[n, 1, 28, 28]` in `[-1, 1]`.
pub fn judge(model: &DigitClassifier, x: Tensor<4>, threshold: f64) -> Result<DigitVerdict> {
    let rows = to_rows(model.probabilities(x))?;
    let mut histogram = [0; CLASSES];
    let mut confident = 0;
    for r in &rows {
        let (k, p) = argmax(r);
        histogram[k] += 1;
        confident += usize::from(p as f64 > threshold);
    }
    Ok(DigitVerdict {
        n: rows.len(),
        confident: confident as f64 / rows.len().max(1) as f64,
        threshold,
        histogram,
    })
}
